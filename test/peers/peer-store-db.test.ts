import { test } from 'node:test'
import assert from 'node:assert/strict'
import vectors from '../fixtures/octez-public.json' with { type: 'json' }
import { openDatabase, sublevel } from '../../src/storage/database.ts'
import { InvalidAclKeyError, PeerStore, PeerStoreRecordError, type GreylistRecord } from '../../src/peers/peer-store-db.ts'
import { PointBook } from '../../src/peers/point-book.ts'
import { parsePoint, pointKey } from '../../src/net/point.ts'
import { BanList } from '../../src/peers/bans.ts'
import { PeerScores } from '../../src/peers/score.ts'
import { withTempDir } from '../helpers/temp-dir.ts'

const ID_A = vectors.identities[0].peer_id
const ID_B = vectors.identities[1].peer_id
const LIBP2P_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

test('known points, bans, greylist and scores survive closing and reopening the store', async () => {
  await withTempDir('peers', async dir => {
    let now = 1_700_000_000_000
    const clock = (): number => now
    const book = new PointBook({ now: clock })
    book.register(parsePoint(`10.0.0.1:9732#${ID_A}`), { trusted: true })
    book.register(parsePoint(`/ip6/2001:db8::5/tcp/9733/p2p/${LIBP2P_ID}`))
    book.register(parsePoint('boot.example.net'))
    const k1 = pointKey(parsePoint('10.0.0.1:9732'))
    const k2 = pointKey(parsePoint('[2001:db8::5]:9733'))
    book.setRequested(k2); book.setDisconnected(k2); now += 10
    book.setRequested(k2); book.setDisconnected(k2); now += 10
    book.setRunning(k1, ID_A); book.setPrivate(k1, false); now += 1000
    book.setDisconnected(k1)
    const bans = new BanList({ now: clock })
    bans.ban('192.0.2.66', 'spam')
    bans.ban(ID_B)
    bans.ban(LIBP2P_ID)
    const greylist: GreylistRecord[] = [
      { kind: 'ip', key: '198.51.100.1', until: now + 86_400_000, since: now, reason: 'invalid block' },
      { kind: 'peer', key: ID_A, until: now + 1000 }
    ]
    const scores = new PeerScores({ now: clock })
    scores.penalise(ID_A, 20)
    scores.penalise(ID_B, 2)

    const db = await openDatabase(dir, { chainName: 'TEST' })
    const store = new PeerStore(db)
    await store.replacePoints(book.snapshot())
    await store.replaceBans(bans.list())
    await store.replaceGreylist(greylist)
    await store.replaceScores(scores.snapshot())
    await db.close()

    const again = await openDatabase(dir, { chainName: 'TEST' })
    try {
      const reopened = new PeerStore(again)
      const points = await reopened.loadPoints()
      assert.deepEqual(sortBy(points, p => p.key), sortBy(book.snapshot(), p => p.key))
      assert.deepEqual(sortBy(await reopened.loadBans(), b => b.key), sortBy(bans.list(), b => b.key))
      assert.deepEqual(sortBy(await reopened.loadGreylist(), g => g.key), sortBy(greylist, g => g.key))
      assert.deepEqual(sortBy(await reopened.loadScores(), s => s.peerId), sortBy(scores.snapshot(), s => s.peerId))

      // The restored book keeps the failure history that drives candidate order and back-off.
      const restored = new PointBook({ now: clock })
      restored.restore(points)
      assert.deepEqual(restored.get(k2)?.reconnection, book.get(k2)?.reconnection)
      assert.equal(restored.get(k1)?.expectedPeerId, ID_A)
      assert.equal(restored.get(k2)?.libp2pPeerId, LIBP2P_ID)
      const restoredBans = new BanList()
      restoredBans.restore(await reopened.loadBans())
      assert.equal(restoredBans.isBanned('192.0.2.66'), true)
      const restoredScores = new PeerScores({ now: clock })
      restoredScores.restore(await reopened.loadScores())
      assert.equal(restoredScores.score(ID_A), -20)

      // replace* removes what is gone; single-record updates and deletes work too.
      book.unregister(k2)
      await reopened.replacePoints(book.snapshot())
      assert.deepEqual((await reopened.loadPoints()).map(p => p.key).sort(), [k1, '/dns/boot.example.net/tcp/9732'].sort())
      await reopened.deletePoint(k1)
      await reopened.deleteBan('ip', '192.0.2.66')
      await reopened.deleteGreylistEntry('peer', ID_A)
      await reopened.saveBan({ kind: 'ip', key: '::ffff:203.0.113.3', since: 5 })
      await reopened.saveGreylistEntry({ kind: 'ip', key: '2001:DB8:0::9', until: 7 })
      assert.deepEqual((await reopened.loadPoints()).map(p => p.key), ['/dns/boot.example.net/tcp/9732'])
      assert.deepEqual((await reopened.loadBans()).filter(b => b.kind === 'ip'), [{ kind: 'ip', key: '203.0.113.3', since: 5 }])
      assert.deepEqual((await reopened.loadGreylist()).map(g => g.key).sort(), ['198.51.100.1', '2001:db8::9'])
      await assert.rejects(reopened.saveBan({ kind: 'ip', key: ID_A, since: 0 }), InvalidAclKeyError)
    } finally {
      await again.close()
    }
  })
})

test('a record that does not decode is a typed error naming its key, and stays in the store', async () => {
  await withTempDir('peers', async dir => {
    const db = await openDatabase(dir, { chainName: 'TEST' })
    try {
      const store = new PeerStore(db)
      const raw = sublevel(db, 'peers')
      const text = new TextEncoder()
      const good = { v: 1, key: '/ip4/10.0.0.1/tcp/9732', knownPublic: false, addedAt: 1 }
      await raw.put('point:/ip4/10.0.0.1/tcp/9732', text.encode(JSON.stringify(good)))
      assert.equal((await store.loadPoints()).length, 1)

      const corruptions: Array<[string, Uint8Array, RegExp]> = [
        ['point:/ip4/10.0.0.2/tcp/9732', Uint8Array.of(0xff, 0xfe, 0x00), /not UTF-8 JSON/],
        ['point:/ip4/10.0.0.3/tcp/9732', text.encode('{"v":1,'), /not UTF-8 JSON/],
        ['point:/ip4/10.0.0.4/tcp/9732', text.encode(JSON.stringify({ ...good, v: 2, key: '/ip4/10.0.0.4/tcp/9732' })), /version 2 is not known/],
        ['point:/ip4/10.0.0.5/tcp/9732', text.encode(JSON.stringify({ ...good, key: '/ip4/10.0.0.5/tcp/9732', addedAt: 'yesterday' })), /addedAt/],
        ['point:/ip4/10.0.0.6/tcp/9732', text.encode(JSON.stringify(good)), /names point/],
        ['point:/ip4/999.0.0.1/tcp/1', text.encode(JSON.stringify({ ...good, key: '/ip4/999.0.0.1/tcp/1' })), /bad point key/],
        ['point:/ip4/10.0.0.7/tcp/9732', text.encode(JSON.stringify({ ...good, key: '/ip4/10.0.0.7/tcp/9732', extra: 1 })), /unexpected content/]
      ]
      for (const [key, value, message] of corruptions) {
        await raw.put(key, value)
        await assert.rejects(store.loadPoints(), (e: Error) =>
          e instanceof PeerStoreRecordError && e.key === key && message.test(e.message) && /cannot be read/.test(e.message), key)
        assert.ok(await raw.get(key) !== undefined, 'the bad record is left in place, never dropped')
        await raw.del(key)
      }

      await raw.put('ban:ip:10.0.0.9', text.encode(JSON.stringify({ v: 1, kind: 'peer', key: '10.0.0.9', since: 0 })))
      await assert.rejects(store.loadBans(), (e: Error) => e instanceof PeerStoreRecordError && e.key === 'ban:ip:10.0.0.9')
      await raw.put('greylist:peer:nonsense', text.encode(JSON.stringify({ v: 1, kind: 'peer', key: 'nonsense', until: 1 })))
      await assert.rejects(store.loadGreylist(), (e: Error) => e instanceof PeerStoreRecordError && /not a normalised peer id/.test(e.message))
      await raw.put(`score:${ID_A}`, text.encode(JSON.stringify({ v: 1, peerId: ID_A, score: 5, updatedAt: 0 })))
      await assert.rejects(store.loadScores(), (e: Error) => e instanceof PeerStoreRecordError && e.key === `score:${ID_A}`)
    } finally {
      await db.close()
    }
  })
})

function sortBy<T> (items: T[], key: (t: T) => string): T[] {
  return [...items].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
}
