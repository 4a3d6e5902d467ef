import Foundation

/// A fresh directory under the system's temporary directory, removed on deinit.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "orderline") {
        let name = "\(label)-\(UUID().uuidString.prefix(8))"
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent(name)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Copies the directory's contents to a new temporary directory.
    public func copy() -> TemporaryDirectory {
        let copy = TemporaryDirectory("orderline-copy")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name != "LOCK" {
            try! FileManager.default.copyItem(atPath: file(name), toPath: copy.file(name))
        }
        return copy
    }
}
