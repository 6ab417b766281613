public import APIMachinery
import Foundation

/// `--token-auth-file`: upstream's static token CSV, `token,user,uid[,"group1,group2"]` per record.
///
/// Parsed as Go's `encoding/csv` reads it (quoted fields may hold commas, doubled quotes and newlines;
/// records may have any number of fields), with `#` comment lines and blank lines skipped. A malformed
/// file is an error naming the line, so start-up fails rather than silently dropping users.
public enum TokenFile {
    /// A token file that cannot be used; `message` names the file and line.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(ParseError) -> [String: UserInfo] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ParseError(message: "failed to read token file '\(path)': \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    /// Parses token-file text; `path` only names the file in errors. Users get no groups beyond the
    /// file's; the authenticator chain adds `system:authenticated`.
    public static func parse(_ text: String, path: String) throws(ParseError) -> [String: UserInfo] {
        var tokens: [String: UserInfo] = [:]
        var reader = CSVReader(text)
        while true {
            let record: CSVReader.Record?
            do {
                record = try reader.next()
            } catch {
                throw ParseError(message: "token file '\(path)': parse error on line \(error.line): \(error.reason)")
            }
            guard let record else { break }
            let fields = record.fields
            guard fields.count >= 3 else {
                throw ParseError(
                    message:
                        "token file '\(path)' must have at least 3 columns (token, user name, user uid), found \(fields.count) on line \(record.line)"
                )
            }
            // upstream skips (with a warning) a record whose token is empty rather than failing.
            guard !fields[0].isEmpty else { continue }
            let groups = fields.count >= 4 && !fields[3].isEmpty ? fields[3].split(separator: ",").map(String.init) : []
            tokens[fields[0]] = UserInfo(name: fields[1], uid: fields[2], groups: groups)
        }
        return tokens
    }
}

/// Go `encoding/csv` record reading (RFC 4180 with `FieldsPerRecord = -1`), plus `#` comment lines.
struct CSVReader {
    struct Record {
        var fields: [String]
        /// The line the record starts on, 1-based.
        var line: Int
    }

    struct Failure: Error {
        var line: Int
        var reason: String
    }

    private var characters: [Character]
    private var index = 0
    private var line = 1

    init(_ text: String) {
        characters = Array(text)
    }

    /// The next record, or nil at the end of the text.
    mutating func next() throws(Failure) -> Record? {
        while index < characters.count {
            // Blank lines and comment lines are not records.
            if characters[index] == "\n" || characters[index] == "\r\n" {
                index += 1
                line += 1
                continue
            }
            if characters[index] == "#" {
                while index < characters.count, !isNewline(characters[index]) { index += 1 }
                continue
            }
            return try readRecord()
        }
        return nil
    }

    private func isNewline(_ character: Character) -> Bool { character == "\n" || character == "\r\n" }

    private mutating func readRecord() throws(Failure) -> Record {
        let recordLine = line
        var fields: [String] = []
        var field = ""
        var quoted = false
        var fieldStart = true
        while index < characters.count {
            let character = characters[index]
            index += 1
            if quoted {
                if character == "\"" {
                    if index < characters.count, characters[index] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                        // After a closing quote only a separator or the end of the record may follow.
                        if index < characters.count, characters[index] != ",", !isNewline(characters[index]) {
                            throw Failure(line: line, reason: "extraneous or missing \" in quoted-field")
                        }
                    }
                } else {
                    if isNewline(character) { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case ",":
                fields.append(field)
                field = ""
                fieldStart = true
                continue
            case "\"" where fieldStart:
                quoted = true
            case "\"":
                throw Failure(line: line, reason: "bare \" in non-quoted field")
            case _ where isNewline(character):
                line += 1
                fields.append(field)
                return Record(fields: fields, line: recordLine)
            default:
                field.append(character)
            }
            fieldStart = false
        }
        if quoted { throw Failure(line: recordLine, reason: "extraneous or missing \" in quoted-field") }
        fields.append(field)
        return Record(fields: fields, line: recordLine)
    }
}
