/**
 * Which keys each owner holds, oldest first, with a limit per owner: a store asks it which of an
 * owner's entries to drop so that one busy caller pushes out its own oldest entries, not others'.
 */
export class OwnerIndex {
  readonly #keys = new Map<string, Set<string>>();
  readonly #maxPerOwner: number;

  constructor(maxPerOwner: number) {
    this.#maxPerOwner = maxPerOwner;
  }

  /** Records `key` for `owner`; returns the owner's oldest key when the owner now holds too many. */
  add(owner: string, key: string): string | undefined {
    let keys = this.#keys.get(owner);
    if (!keys) this.#keys.set(owner, (keys = new Set()));
    keys.add(key);
    if (keys.size <= this.#maxPerOwner) return undefined;
    const oldest = keys.values().next().value!;
    keys.delete(oldest);
    return oldest;
  }

  remove(owner: string, key: string): void {
    const keys = this.#keys.get(owner);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.#keys.delete(owner);
  }

  keysOf(owner: string): Iterable<string> {
    return this.#keys.get(owner) ?? [];
  }
}
