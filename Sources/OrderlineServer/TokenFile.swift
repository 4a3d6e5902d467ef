import Foundation
import OrderlineCore

/// The `--auth` token file: one `<token> <role>` per line, `#` comments, blank lines
/// ignored. Roles: `admin`, `ops`, `viewer`, `pos:<node>`, `channel:<name>`,
/// `customer:<id>`. Tokens are at least `tokenCharactersMin` characters, without spaces, unique.
public enum TokenFile {
    /// A token is a shared secret sent in the clear on every connection: short ones can
    /// be guessed (8 characters were accepted until an outside review tried 100,000 a
    /// second).
    public static let tokenCharactersMin = 16

    public static func load(path: String) throws -> [String: Role] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerStartError(message: "cannot read token file \(path): \(error.localizedDescription)")
        }
        return try parse(text, name: path)
    }

    public static func parse(_ text: String, name: String = "token file") throws -> [String: Role] {
        var tokens: [String: Role] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 2 else { throw ServerStartError(message: "\(name):\(index + 1): expected '<token> <role>'") }
            guard fields[0].count >= tokenCharactersMin else {
                throw ServerStartError(message: "\(name):\(index + 1): tokens need at least \(tokenCharactersMin) characters")
            }
            guard let role = Role(fields[1]) else {
                throw ServerStartError(message: "\(name):\(index + 1): unknown role '\(fields[1])' (admin, ops, viewer, pos:<node>, channel:<name>, customer:<id>)")
            }
            guard tokens.updateValue(role, forKey: String(fields[0])) == nil else {
                throw ServerStartError(message: "\(name):\(index + 1): token given twice")
            }
        }
        guard !tokens.isEmpty else { throw ServerStartError(message: "\(name) holds no tokens") }
        return tokens
    }
}
