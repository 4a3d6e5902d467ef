import Foundation
import Testing

/// The core is deterministic: no clock reads, no randomness, no I/O, no tasks.
@Test func coreModuleMakesNoForbiddenCalls() throws {
    let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/OrderlineCore").standardized
    let files = (FileManager.default.enumerator(atPath: sources.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".swift") }
    #expect(files.count > 5)
    #expect(files.contains("Routing/Router.swift"), "the scan reaches subfolders")
    let forbidden = [
        "Date()", "Date.now", ".now()", "random", "Task {", "Task.detached", "print(", "import Foundation", "FileManager",
        "FileHandle", "fopen", "DispatchQueue", "ContinuousClock", "SystemRandomNumberGenerator",
    ]
    for file in files {
        let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
        for call in forbidden {
            #expect(!text.contains(call), "\(file) contains \(call)")
        }
    }
}
