// Helper for StorageTests' kill -9 test: creates k0, k1, ... in the SQLiteStore at argv[1] and
// prints each key to stdout once its create is acknowledged, until it is killed.
import Foundation
import Storage

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: storage-crash-writer <database path>\n".utf8))
    exit(2)
}

let store = try SQLiteStore(path: CommandLine.arguments[1])
let value = [UInt8](repeating: UInt8(ascii: "x"), count: 300)
var index = 0
while true {
    let key = "k\(index)"
    _ = try await store.create(key: key, value: value, lease: 0)
    // FileHandle writes go straight to the descriptor, so an acknowledged key is never left in a
    // process buffer when the kill arrives.
    FileHandle.standardOutput.write(Data("\(key)\n".utf8))
    index += 1
}
