import Foundation

/// A test script: commands with the replies they must get, run unchanged against the
/// core value (in-process) and against a live server over a socket.
///
///     # comments and blank lines are ignored
///     > RESERVE HOT 2 ttl=60
///     $R1
///     > ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 ship=39.95,-75.16
///     $<*>"status":"allocated"<*>
///
/// A line starting with `> ` is a command (inline syntax, Redis quoting); the next line
/// is its reply as `Reply`/`RESPValue` describe it (`+OK`, `:5`, `$text`, `-CODE
/// message`); `<*>` in it matches any text. Time is the manual clock's
/// (`ManualClock.epoch`), moved only by `CLOCK.ADVANCE <seconds>`.
public struct TestScript: Sendable, CustomStringConvertible {
    public struct Step: Sendable {
        public var line: Int
        public var command: String
        public var expected: String
    }

    public let name: String
    public let steps: [Step]
    public static let directory = Executables.repositoryRoot + "/Tests/Scripts"
    /// Where the clock starts: `ManualClock.epoch`, the server's `--clock manual`
    /// (2026-01-01T00:00:00Z; the scripts' timestamps check the two agree).
    public static let clockStart: Int64 = 1_767_225_600

    public init(named name: String) throws {
        self.name = name
        let text = try String(contentsOfFile: "\(Self.directory)/\(name)", encoding: .utf8)
        var steps: [Step] = []
        var pending: (line: Int, command: String)?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("> ") {
                guard pending == nil else { throw ScriptError("\(name):\(index + 1): a command without its expected reply") }
                pending = (index + 1, String(line.dropFirst(2)))
            } else {
                guard let command = pending else { throw ScriptError("\(name):\(index + 1): a reply without a command") }
                steps.append(Step(line: command.line, command: command.command, expected: line))
                pending = nil
            }
        }
        guard pending == nil else { throw ScriptError("\(name): the last command has no expected reply") }
        self.steps = steps
    }

    /// Every script in `Tests/Scripts`, by name.
    public static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }

    public var description: String { name }

    /// Runs every step through `execute` (which answers a command line with its reply);
    /// returns one message per reply that did not match.
    public func run(_ execute: (String) throws -> String) rethrows -> [String] {
        var mismatches: [String] = []
        for step in steps {
            let reply = try execute(step.command)
            if !Self.reply(reply, matches: step.expected) {
                mismatches.append("\(name):\(step.line): \(step.command)\n  expected \(step.expected)\n  got      \(reply)")
            }
        }
        return mismatches
    }

    /// `<*>` matches any run of characters; everything else literally.
    public static func reply(_ reply: String, matches pattern: String) -> Bool {
        let parts = pattern.components(separatedBy: "<*>")
        guard parts.count > 1 else { return reply == pattern }
        guard reply.hasPrefix(parts[0]), reply.dropFirst(parts[0].count).hasSuffix(parts[parts.count - 1]) else { return false }
        var rest = Substring(reply.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}

public struct ScriptError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
