// Secret masking. Every secret value the tool generates or reads is registered here once; anything
// that writes to a log, a report or an error message passes its text through mask() first.

const secrets = new Set<string>();

/** Registers a value that must never be printed. Values shorter than 4 characters are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export const MASK = '••••••';

/** Replaces every registered secret in `text` with a mask. */
export function mask(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** For tests: forget all registered secrets. */
export function clearSecrets(): void {
  secrets.clear();
}
