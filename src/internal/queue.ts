// The dispatcher's two lists: the task queue and the room-waiter list (the
// submitters suspended on a full queue). Both are intrusive doubly linked
// lists: a node carries its own links, so pushing allocates nothing, and a
// node can be taken out from anywhere in O(1) (a cancelled task, an
// interrupted waiter). A node is in at most one list at a time.

/**
 * What a list node carries: its links. Both are `undefined` while it is in no
 * list.
 * @internal
 */
export interface Node<N> {
  prev: N | undefined
  next: N | undefined
}

/** @internal */
export class LinkedList<N extends Node<N>> {
  head: N | undefined = undefined
  tail: N | undefined = undefined
  size = 0

  /** Appends a node that is in no list. */
  push(node: N): void {
    node.prev = this.tail
    node.next = undefined
    if (this.tail === undefined) this.head = node
    else this.tail.next = node
    this.tail = node
    this.size++
  }

  /** Puts a node that is in no list at the head. */
  unshift(node: N): void {
    node.prev = undefined
    node.next = this.head
    if (this.head === undefined) this.tail = node
    else this.head.prev = node
    this.head = node
    this.size++
  }

  /** Takes the head out, or returns `undefined` when the list is empty. */
  shift(): N | undefined {
    const node = this.head
    if (node !== undefined) this.remove(node)
    return node
  }

  /** Takes a node out of this list; false if it is not in it. */
  remove(node: N): boolean {
    if (!this.has(node)) return false
    const { prev, next } = node
    if (prev === undefined) this.head = next
    else prev.next = next
    if (next === undefined) this.tail = prev
    else next.prev = prev
    node.prev = node.next = undefined
    this.size--
    return true
  }

  /** Whether the node is in this list (nodes of one kind live in one list). */
  has(node: N): boolean {
    return node.prev !== undefined || this.head === node
  }

  /** Empties the list and returns its nodes in order. */
  drain(): Array<N> {
    const out: Array<N> = []
    for (let node = this.shift(); node !== undefined; node = this.shift()) out.push(node)
    return out
  }
}
