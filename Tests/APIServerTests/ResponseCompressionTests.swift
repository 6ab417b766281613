import Component
import CompressNIO
import NIOCore
import NIOHTTP1
import XCTest

@testable import APIServer

/// Which requests get gzip, upstream's threshold, the gzip stream itself and the feature gate's parsing.
final class ResponseCompressionTests: XCTestCase {
    func testGzipIsNegotiatedByAnExactTokenOfTheFirstAcceptEncodingHeader() {
        let on = ResponseCompression(enabled: true)
        XCTAssertTrue(on.negotiated(["Accept-Encoding": "gzip"]))
        XCTAssertTrue(on.negotiated(["Accept-Encoding": "deflate, gzip"]))
        XCTAssertTrue(on.negotiated(["Accept-Encoding": "br,\tgzip ,zstd"]))
        XCTAssertFalse(on.negotiated(["Accept-Encoding": "gzip;q=1.0"]))
        XCTAssertFalse(on.negotiated(["Accept-Encoding": "deflate"]))
        XCTAssertFalse(on.negotiated([:]))
        var twoHeaders: HTTPHeaders = ["Accept-Encoding": "br"]
        twoHeaders.add(name: "Accept-Encoding", value: "gzip")
        XCTAssertFalse(on.negotiated(twoHeaders), "upstream reads the first header only")
        XCTAssertFalse(ResponseCompression(enabled: false).negotiated(["Accept-Encoding": "gzip"]))
    }

    func testOnlyBodiesOverTheThresholdWithoutAnEncodingAreCompressed() {
        let response = HTTPResponse.json([])
        let threshold = ResponseCompression.thresholdBytes
        XCTAssertEqual(threshold, 128 * 1024)
        XCTAssertFalse(ResponseCompression.applies(to: response, length: threshold, negotiated: true))
        XCTAssertTrue(ResponseCompression.applies(to: response, length: threshold + 1, negotiated: true))
        XCTAssertTrue(ResponseCompression.applies(to: response, length: nil, negotiated: true))
        XCTAssertFalse(ResponseCompression.applies(to: response, length: threshold + 1, negotiated: false))
        var proxied = response
        proxied.headers.add(name: "Content-Encoding", value: "br")
        XCTAssertFalse(ResponseCompression.applies(to: proxied, length: nil, negotiated: true))
    }

    func testAGzipStreamOfManyPiecesDecodesToThemJoined() throws {
        var random = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = (0..<12).map { index in
            // Text-like pieces compress; a random one makes zlib spill past an output buffer's estimate.
            index == 5
                ? (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &random) }
                : Array(String(repeating: "{\"name\":\"cm-\(index)\",\"data\":\"abc\"},", count: 4_000).utf8)
        }
        let stream = try GzipStream()
        var compressed = ByteBuffer()
        for (index, piece) in pieces.enumerated() {
            var part = try stream.compress(piece, finish: index == pieces.count - 1)
            compressed.writeBuffer(&part)
        }
        XCTAssertEqual(Array(compressed.readableBytesView.prefix(2)), [0x1F, 0x8B], "a gzip member")
        let decompressed = try compressed.decompress(with: .gzip())
        XCTAssertEqual(Array(decompressed.readableBytesView), pieces.flatMap { $0 })
    }

    func testChunkedBodiesKeepSmallBodiesWholeAndIterateAfresh() {
        let small = ListChunks(head: Array("[".utf8), tail: Array("]".utf8), count: 3) { index, out in
            out.append(contentsOf: "\(index)".utf8)
        }
        guard case .bytes(let bytes) = ChunkedBody.body(small) else { return XCTFail("three digits are one chunk") }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "[012]")

        XCTAssertGreaterThan(ListChunks.chunkBytes, ResponseCompression.thresholdBytes)
        let element = [UInt8](repeating: UInt8(ascii: "x"), count: 30_000)
        let large = ListChunks(head: [], tail: [], count: 40) { _, out in out.append(contentsOf: element) }
        guard case .chunked(let body) = ChunkedBody.body(large) else { return XCTFail("1.2 MB is chunked") }
        XCTAssertEqual(Array(body).map(\.count), [540_000, 540_000, 120_000])
        XCTAssertEqual(body.collect().count, 1_200_000)
        XCTAssertEqual(body.collect().count, 1_200_000, "a body iterates afresh")
    }

    func testFeatureGatesParseAsUpstreamsFlag() throws {
        func gates(_ arguments: [String]) throws -> APIServerCommand.FeatureGates {
            var flags = FlagSet(APIServerCommand.flags)
            try flags.parse(arguments)
            return try APIServerCommand.FeatureGates(flags)
        }
        XCTAssertTrue(try gates([]).apiResponseCompression)
        XCTAssertFalse(try gates(["--feature-gates=APIResponseCompression=false"]).apiResponseCompression)
        XCTAssertFalse(try gates(["--feature-gates", "Other=true, APIResponseCompression=0"]).apiResponseCompression)
        XCTAssertThrowsError(try gates(["--feature-gates=APIResponseCompression"])) { error in
            XCTAssertEqual(
                (error as? FlagError)?.message,
                "invalid argument \"APIResponseCompression\" for \"--feature-gates\" flag: missing bool value for APIResponseCompression"
            )
        }
        XCTAssertThrowsError(try gates(["--feature-gates=APIResponseCompression=maybe"])) { error in
            XCTAssertEqual(
                (error as? FlagError)?.message,
                "invalid argument \"APIResponseCompression=maybe\" for \"--feature-gates\" flag: invalid value of APIResponseCompression=maybe, err: strconv.ParseBool: parsing \"maybe\": invalid syntax"
            )
        }
    }
}
