import RESP
import XCTest
@testable import Server

final class AofManifestTests: XCTestCase {
    func testParsesRedisManifestAndWritesItBack() throws {
        let text = "file appendonly.aof.3.base.rdb seq 3 type b\n"
            + "file appendonly.aof.2.incr.aof seq 2 type h\n"
            + "file appendonly.aof.2.incr.aof.x seq 2 type i\n"
            + "file appendonly.aof.3.incr.aof seq 3 type i\n"
        let m = try AofManifest.parse(text).get()
        XCTAssertEqual(m.base?.name, "appendonly.aof.3.base.rdb")
        XCTAssertEqual(m.history.map(\.seq), [2])
        XCTAssertEqual(m.incrs.map(\.seq), [2, 3])
        XCTAssertEqual(m.text, text)
        XCTAssertEqual(m.nextBaseSeq, 4)
        XCTAssertEqual(m.nextIncrSeq, 4)
        // Comments, and keys in another order, as Redis accepts them.
        let m2 = try AofManifest.parse("# c\nseq 1 type i file a.1.incr.aof\n").get()
        XCTAssertEqual(m2.incrs.first?.name, "a.1.incr.aof")
    }

    func testRefusesWhatRedisRefuses() {
        for bad in ["file a seq 1 type b\nfile b seq 2 type b\n",      // two bases
                    "file a seq 2 type i\nfile b seq 1 type i\n",      // non-monotonic incr
                    "file a seq 1 type x\n",                          // unknown type
                    "file a seq 1\n",                                 // no type
                    "file ../x seq 1 type i\n"] {                    // a path
            if case .success = AofManifest.parse(bad) { XCTFail(bad) }
        }
    }

    /// Lines as Redis 7.0's aofLoadManifestFromFile reads them (each case
    /// checked against redis-server 7.0.15). CRLF line ends were refused
    /// before: a Swift Character folds "\r\n" into one, so the manifest was
    /// one line (found writing fuzz-aof; input in Fuzz/regressions/aof/).
    func testReadsLinesAsRedisReadsThem() throws {
        let m = try AofManifest.parse("# c\r\nfile a.1.base.rdb seq 1 type b\r\n"
            + "FILE a.1.incr.aof\tSEQ 1x Type incr\r\n").get()
        XCTAssertEqual(m.base?.name, "a.1.base.rdb")
        XCTAssertEqual(m.incrs.map(\.name), ["a.1.incr.aof"])
        XCTAssertEqual(m.incrs.map(\.seq), [1])
        XCTAssertEqual(m.text, "file a.1.base.rdb seq 1 type b\nfile a.1.incr.aof seq 1 type i\n")
        for (bad, error) in [("", "Found an empty AOF manifest"),
                             ("file a seq 1 type i", "The AOF manifest file contains too long line"),
                             ("file a seq 1 type i\n\n", "Invalid AOF manifest file format"),
                             ("file a seq 0 type i\n", "Invalid AOF manifest file format"),
                             ("file a seq 1 type i x\n", "Invalid AOF manifest file format"),
                             ("file a\\b seq 1 type i\n", "File can't be a path, just a filename"),
                             ("file a seq -1 type i\n", "Found a non-monotonic sequence number")] {
            guard case .failure(let e) = AofManifest.parse(bad) else { XCTFail(bad); continue }
            XCTAssertEqual(e.message, error, bad)
        }
        // A comment longer than fgets's 1024 bytes goes on as a line of its own.
        let long = "#" + String(repeating: "x", count: 1023) + "file a seq 1 type i\n"
        XCTAssertEqual(try AofManifest.parse(long).get().incrs.map(\.name), ["a"])
    }

    func testShardLogCutsWhereTheWriterMayReorder() {
        let log = AofShardLog()
        func rec(_ mask: UInt64, db: Int) { appendBulkArg(log.open(mask: mask, db: db), "X") }
        rec(1, db: 0)
        rec(1, db: 3)           // same shard, another db: same chunk, SELECT inside
        rec(2, db: 3)           // another shard: new chunk
        log.lent = true
        log.cut()
        rec(4, db: 3)
        rec(8, db: 3)           // one lent run: one chunk for both shards
        log.lent = false
        log.cut()
        log.global(shard: 0, db: -1) { appendBulkArg($0, "FLUSHALL") }
        rec(1, db: 0)
        let cs = log.take()
        XCTAssertEqual(cs.map(\.mask), [1, 2, 12, 1, 1])
        XCTAssertEqual(cs.map(\.records), [2, 1, 2, 1, 1])
        XCTAssertEqual(cs.map(\.global), [false, false, false, true, false])
        XCTAssertEqual(cs.map(\.lent), [false, false, true, false, false])
        XCTAssertEqual(cs[0].startDb, 0)
        XCTAssertEqual(cs[0].endDb, 3)
        XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: cs[0].bytes.base, count: cs[0].bytes.count), as: UTF8.self),
                       "$1\r\nX\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n$1\r\nX\r\n")
        XCTAssertTrue(log.isEmpty)
    }
}
