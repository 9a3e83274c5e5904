/**
 * A bounded map that forgets its oldest entries first. Reads do not reorder (a Map keeps
 * insertion order, and refreshing on every read would cost a delete + set on the hot path);
 * writes do, so recently stored items — the blocks near the head — stay.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>()
  readonly capacity: number

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
  }

  get (key: K): V | undefined {
    return this.map.get(key)
  }

  has (key: K): boolean {
    return this.map.has(key)
  }

  set (key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key)
    else if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next()
      if (oldest.done !== true) this.map.delete(oldest.value)
    }
    this.map.set(key, value)
  }

  delete (key: K): void {
    this.map.delete(key)
  }

  clear (): void {
    this.map.clear()
  }

  get size (): number {
    return this.map.size
  }
}
