/**
 * Judging which maintainer scripts and triggers of an upgrade would have done more than unpack
 * files. copa never runs them; the ones that matter are reported to the user.
 */
import type { ControlMember } from './deb-archive.js';

/** Lines of shell that only structure a script (no effect on the system by themselves). */
const STRUCTURE =
  /^(set -[a-z]+|exit 0|esac|fi|done|;;|then|else|:|true|\*\)|case "?\$1"? in|if \[ .* \]; then|[a-z|-]+\)|[a-z-]+(\|[a-z-]+)*\)\s*;;)$/;

/** Reports whether a script has any line beyond comments and shell structure. */
export function isTrivialScript(text: string): boolean {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!STRUCTURE.test(line)) return false;
  }
  return true;
}

/** Trigger activations that the upgrade of the same library already satisfies. */
const HARMLESS_TRIGGERS = new Set(['activate-noawait ldconfig', 'activate ldconfig']);

/**
 * Lists the scripts of an upgrade that were not run and would have done more than unpack files:
 * the new package's `preinst` and `postinst` when non-trivial, and its `triggers` when they
 * declare interests or activate anything other than `ldconfig`. The old version's `prerm` and
 * `postrm` are not listed: on upgrade they rarely act, and what they do (py3clean) is emulated.
 */
export function scriptsNotRun(control: ReadonlyMap<string, ControlMember>): string[] {
  const out: string[] = [];
  for (const name of ['preinst', 'postinst']) {
    const member = control.get(name);
    if (member !== undefined && !isTrivialScript(Buffer.from(member.bytes).toString()))
      out.push(name);
  }
  const triggers = control.get('triggers');
  if (triggers !== undefined) {
    const lines = Buffer.from(triggers.bytes)
      .toString()
      .split('\n')
      .map((l) => l.trim().replace(/\s+/g, ' '))
      .filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.some((l) => !HARMLESS_TRIGGERS.has(l))) out.push('triggers');
  }
  return out;
}
