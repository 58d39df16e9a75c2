import XCTest
@testable import Storage

final class KeyEventsTests: XCTestCase {
    func drained(_ ev: KeyEvents) -> [(Int, String, String)] {
        var out: [(Int, String, String)] = []
        ev.drain { _, db, e, k in out.append((db, String(decoding: e, as: UTF8.self), String(decoding: k, as: UTF8.self))) }
        return out
    }

    func testRecordsOnlySelectedClassesInOrder() {
        let sw = NotifySwitch()
        let ev = KeyEvents(config: sw)
        let k = bytes("key")
        k.withUnsafeBufferPointer { ev.note(.string, "set", db: 3, $0.baseAddress!, $0.count) }
        XCTAssertEqual(ev.used, 0, "nothing selected: nothing recorded")
        sw.set(NotifyClass.string.rawValue | NotifyClass.expired.rawValue)
        k.withUnsafeBufferPointer {
            ev.note(.string, "set", db: 3, $0.baseAddress!, $0.count)
            ev.note(.list, "lpush", db: 3, $0.baseAddress!, $0.count)
            ev.note(.expired, "expired", db: 0, $0.baseAddress!, $0.count)
        }
        let got = drained(ev)
        XCTAssertEqual(got.map { $0.1 }, ["set", "expired"])
        XCTAssertEqual(got.map { $0.0 }, [3, 0])
        XCTAssertEqual(ev.used, 0, "drained")
    }

    func testGrowsPastItsBufferAndKeepsLongKeys() {
        let sw = NotifySwitch()
        sw.set(NotifyClass.generic.rawValue)
        let ev = KeyEvents(config: sw)
        let long = [UInt8](repeating: 120, count: 5000)
        for i in 0..<100 {
            let k = i % 10 == 0 ? long : Array("k\(i)".utf8)
            k.withUnsafeBufferPointer { ev.note(.generic, "del", db: i % 16, $0.baseAddress!, $0.count) }
        }
        let got = drained(ev)
        XCTAssertEqual(got.count, 100)
        XCTAssertEqual(got[10].2.utf8.count, 5000)
        XCTAssertEqual(got[11].2, "k11")
        XCTAssertEqual(got[99].0, 99 % 16)
    }

    func testKeyspaceLogsNewAndExpired() {
        let sw = NotifySwitch()
        sw.set(NotifyClass.new.rawValue | NotifyClass.expired.rawValue)
        let store = ShardStore(databases: 2, notify: sw)
        let ks = store.dbs[1]
        ks.add(makeEntry(bytes("a"), bytes("v"), expireAt: 1000))
        XCTAssertEqual(ks.find(bytes("a"), now: 2000), -1)
        store.swap(0, 1)
        store.dbs[0].add(makeEntry(bytes("b"), bytes("v")))
        store.events.muteNew = true
        store.dbs[0].add(makeEntry(bytes("c"), bytes("v")))
        store.events.muteNew = false
        let got = drained(store.events)
        XCTAssertEqual(got.map { "\($0.0) \($0.1) \($0.2)" }, ["1 new a", "1 expired a", "0 new b"])
    }
}
