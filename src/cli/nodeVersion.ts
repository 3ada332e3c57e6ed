/**
 * The Node.js versions the command runs on, checked by its entry before
 * anything else loads. This module imports nothing, so it loads on any Node
 * that runs ES modules (older ones included, which is the point).
 *
 * @internal
 */

/** The oldest Node.js the command supports (the `engines` of the package and of `@effect/platform-node`). */
export const minimum = "22.19.0"

/** Whether `version` (such as `process.versions.node`, or with a leading `v`) is `minimum` or newer. */
export const supported = (version: string): boolean => {
  const parse = (v: string) => v.replace(/^v/, "").split(/[.-]/, 3).map(Number)
  const have = parse(version)
  const need = parse(minimum)
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i]
  }
  return true
}
