// Finding and removing a lab's libvirt objects by their ownership mark alone (never by name), so
// teardown works without the lab file or the journal and never touches anything that is not ours.
// Removal is `rm -f`: objects already gone are fine; an object without our mark is refused.
import { LabError } from '../core/errors.js';
import type { DomainInfo, LibvirtDriver, NetworkInfo } from './driver.js';
import { isLibvirtError } from './errors.js';
import { isOurs } from './marks.js';

/** Domains marked as nodes of `lab`. */
export async function ownedDomains(lv: LibvirtDriver, lab: string): Promise<DomainInfo[]> {
  return (await lv.listDomains()).filter((d) => isOurs(d.mark, lab, 'node'));
}

/** Networks marked as the network of `lab`. */
export async function ownedNetworks(lv: LibvirtDriver, lab: string): Promise<NetworkInfo[]> {
  return (await lv.listNetworks()).filter((n) => isOurs(n.mark, lab, 'network'));
}

const gone = (err: unknown) => isLibvirtError(err, 'NO_DOMAIN') || isLibvirtError(err, 'NO_NETWORK');
const notRunning = (err: unknown) => isLibvirtError(err, 'OPERATION_INVALID');

/** Powers off (if running) and undefines a domain of `lab`, with its UEFI NVRAM. */
export async function removeDomain(lv: LibvirtDriver, lab: string, name: string): Promise<'removed' | 'absent'> {
  const d = await lv.getDomain(name);
  if (!d) return 'absent';
  if (!isOurs(d.mark, lab, 'node'))
    throw new LabError(`refusing to remove domain ${name}: it does not carry lab ${lab}'s mark`, { hint: 'it was not created by pvelab for this lab; remove it yourself if you are sure' });
  try {
    if (d.state !== 'shutoff') await lv.destroy(name).catch((err: unknown) => (notRunning(err) ? undefined : Promise.reject(err)));
    if (d.persistent) await lv.undefine(name);
  } catch (err) {
    if (!gone(err)) throw err;
  }
  return 'removed';
}

/** Stops (if active) and undefines the network of `lab`. */
export async function removeNetwork(lv: LibvirtDriver, lab: string, name: string): Promise<'removed' | 'absent'> {
  const n = await lv.getNetwork(name);
  if (!n) return 'absent';
  if (!isOurs(n.mark, lab, 'network'))
    throw new LabError(`refusing to remove network ${name}: it does not carry lab ${lab}'s mark`, { hint: 'it was not created by pvelab for this lab; remove it yourself if you are sure' });
  try {
    if (n.active) await lv.stopNetwork(name).catch((err: unknown) => (notRunning(err) ? undefined : Promise.reject(err)));
    if (n.persistent) await lv.undefineNetwork(name);
  } catch (err) {
    if (!gone(err)) throw err;
  }
  return 'removed';
}
