/**
 * A bounded first-in first-out queue between two stages of the bootstrap pipeline (Octez connects
 * its three stages with bounded pipes): `push` waits while the queue is full, `shift` waits while
 * it is empty. `close()` lets the consumer drain and then see the end; `fail(error)` wakes both
 * sides with the error.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = []
  private readonly capacity: number
  private closed = false
  private error: Error | undefined
  private notFull: PromiseWithResolvers<void> | undefined
  private notEmpty: PromiseWithResolvers<void> | undefined

  constructor (capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`queue capacity must be at least 1, got ${capacity}`)
    this.capacity = capacity
  }

  get length (): number {
    return this.items.length
  }

  /** The next item without taking it. */
  peek (): T | undefined {
    return this.items[0]
  }

  async push (item: T): Promise<void> {
    while (this.items.length >= this.capacity) {
      if (this.error !== undefined) throw this.error
      this.notFull ??= Promise.withResolvers()
      await this.notFull.promise
    }
    if (this.error !== undefined) throw this.error
    if (this.closed) throw new Error('push on a closed queue')
    this.items.push(item)
    this.notEmpty?.resolve()
    this.notEmpty = undefined
  }

  /** The next item, or `undefined` once the queue is closed and drained. */
  async shift (): Promise<T | undefined> {
    while (this.items.length === 0) {
      if (this.error !== undefined) throw this.error
      if (this.closed) return undefined
      this.notEmpty ??= Promise.withResolvers()
      await this.notEmpty.promise
    }
    if (this.error !== undefined) throw this.error
    const item = this.items.shift() as T
    this.notFull?.resolve()
    this.notFull = undefined
    return item
  }

  close (): void {
    this.closed = true
    this.notEmpty?.resolve()
    this.notEmpty = undefined
  }

  fail (error: Error): void {
    this.error ??= error
    this.notEmpty?.resolve()
    this.notFull?.resolve()
    this.notEmpty = undefined
    this.notFull = undefined
  }
}
