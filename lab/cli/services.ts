// Builds the drivers steps use (Services) for a real run, lazily (a command that never needs libvirt
// never opens it), and closes them afterwards so the process can exit.
import type { AppContext, LoadedLab } from './app.js';
import { LabError } from '../core/errors.js';
import type { Services } from '../core/step.js';
import { openLibvirt } from '../libvirt/client.js';
import type { LibvirtDriver } from '../libvirt/driver.js';
import { labNodeShell, type NodeShell } from '../ssh/nodes.js';
import { storageServices } from '../storage/services.js';

export async function openServices(app: AppContext, loaded: LoadedLab, opts: { sshConnectAttempts?: number } = {}): Promise<{ value: Partial<Services>; close: () => Promise<void> }> {
  let libvirtDriver: LibvirtDriver | undefined;
  let libvirtError: unknown;
  let nodes: NodeShell | undefined;
  const storage = storageServices(app.host);
  const value = {
    ...storage,
    get libvirt(): LibvirtDriver {
      if (!libvirtDriver)
        throw new LabError(`cannot connect to libvirt at ${loaded.lab.libvirt.uri}`, {
          cause: libvirtError,
          hint: 'start libvirtd (systemctl enable --now libvirtd) and check libvirt.uri in the lab file; `pvelab doctor` checks it',
        });
      return libvirtDriver;
    },
    get nodes(): NodeShell {
      return (nodes ??= labNodeShell(loaded.names, loaded.state, app.log, opts.sshConnectAttempts ? { connectAttempts: opts.sshConnectAttempts } : {}));
    },
  } as Partial<Services>;
  // Opened now (cheap) so steps can use it synchronously; a failure is reported by the first step that
  // needs libvirt, so `plan` still works on a host without libvirtd.
  try {
    libvirtDriver = await openLibvirt(loaded.lab.libvirt.uri);
  } catch (err) {
    libvirtError = err;
  }
  return {
    value,
    close: async () => {
      await nodes?.close();
      await libvirtDriver?.close();
    },
  };
}
