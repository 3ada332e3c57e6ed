import { assert, describe, it } from "@effect/vitest"
import { LinkedList, type Node } from "../../src/internal/queue.ts"

class Item implements Node<Item> {
  prev: Item | undefined = undefined
  next: Item | undefined = undefined
  readonly n: number
  constructor(n: number) {
    this.n = n
  }
}

const contents = (list: LinkedList<Item>) => {
  const out: Array<number> = []
  for (let node = list.head; node !== undefined; node = node.next) out.push(node.n)
  // the back links agree with the forward ones
  const back: Array<number> = []
  for (let node = list.tail; node !== undefined; node = node.prev) back.unshift(node.n)
  assert.deepStrictEqual(back, out)
  assert.strictEqual(list.size, out.length)
  return out
}

describe("LinkedList", () => {
  it("push and shift are FIFO; unshift puts at the head", () => {
    const list = new LinkedList<Item>()
    const items = [1, 2, 3, 4].map((n) => new Item(n))
    for (const item of items) list.push(item)
    assert.deepStrictEqual(contents(list), [1, 2, 3, 4])
    assert.strictEqual(list.shift()?.n, 1)
    list.unshift(items[0])
    assert.deepStrictEqual(contents(list), [1, 2, 3, 4])
    assert.deepStrictEqual(
      list.drain().map((i) => i.n),
      [1, 2, 3, 4]
    )
    assert.deepStrictEqual(contents(list), [])
    assert.isUndefined(list.shift())
  })

  it("remove takes a node out from the head, the middle or the tail, once", () => {
    const list = new LinkedList<Item>()
    const items = [1, 2, 3, 4, 5].map((n) => new Item(n))
    for (const item of items) list.push(item)
    assert.isTrue(list.remove(items[2]))
    assert.isFalse(list.remove(items[2]))
    assert.isFalse(list.has(items[2]))
    assert.deepStrictEqual(contents(list), [1, 2, 4, 5])
    assert.isTrue(list.remove(items[0]))
    assert.isTrue(list.remove(items[4]))
    assert.deepStrictEqual(contents(list), [2, 4])
    assert.isTrue(list.remove(items[1]))
    assert.isTrue(list.remove(items[3]))
    assert.deepStrictEqual(contents(list), [])
    // a removed node can be pushed again
    list.push(items[2])
    assert.deepStrictEqual(contents(list), [3])
  })

  it("matches an array model over random operations", () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const list = new LinkedList<Item>()
    const model: Array<Item> = []
    const all = Array.from({ length: 50 }, (_, n) => new Item(n))
    for (let step = 0; step < 5_000; step++) {
      const item = all[Math.floor(random() * all.length)]
      const r = random()
      if (r < 0.35) {
        if (!model.includes(item)) {
          list.push(item)
          model.push(item)
        }
      } else if (r < 0.5) {
        if (!model.includes(item)) {
          list.unshift(item)
          model.unshift(item)
        }
      } else if (r < 0.75) {
        const i = model.indexOf(item)
        assert.strictEqual(list.remove(item), i >= 0)
        if (i >= 0) model.splice(i, 1)
      } else {
        assert.strictEqual(list.shift(), model.shift())
      }
      assert.strictEqual(list.size, model.length)
    }
    assert.deepStrictEqual(
      contents(list),
      model.map((i) => i.n)
    )
  })
})
