import ArgumentParser
import ATCrypto
import ATData
import ATRepo
import Foundation

/// `bsky car …`: CAR v1 files.
struct CarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "car",
        abstract: "Read, check and write CAR v1 files.",
        subcommands: [Verify.self, Cat.self, List.self, Blocks.self, Export.self, Build.self, CheckRecords.self, Demo.self]
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Decode a CAR file and check every block: its hash, an atproto CID, canonical DAG-CBOR; with --repo, verify it as a repository.")

        @Argument(help: "The CAR file.") var file: String
        @Flag(help: "Print {\"roots\":[…],\"blocks\":N,\"bytes\":N} on stdout (with --repo, also did, rev, data and records).")
        var json = false
        @Flag(help: "Verify the repository: commit, MST shape, order and layers, and every record.") var repo = false
        @Option(help: "The signing key (did:key:…) to check the commit signature with; needs --repo.") var key: String?

        func validate() throws {
            if key != nil, !repo { throw ValidationError("--key needs --repo") }
        }

        func run() throws {
            let publicKey: (any PublicKey)?
            do { publicKey = try key.map { try Keys.publicKey(didKey: $0) } } catch {
                throw ValidationError("--key: \(error)")
            }
            let bytes = try mapFile(file)
            // Every block: its hash, an atproto CID, canonical DAG-CBOR; on every core.
            let options = CAROptions(atprotoBlocks: true)
            let roots: [CID]
            let count: Int
            var summary: RepositoryCARSummary?
            do {
                if repo {
                    let verified = try Repository.verify(car: bytes, key: publicKey)
                    summary = verified
                    roots = verified.roots
                    count = verified.blocks
                } else {
                    let reader = try CARReader(bytes, options: options)
                    count = try reader.forEachBlock { _, _ in }
                    roots = reader.header.roots
                }
            } catch {
                throw CLIFailure("\(file): \(error)")
            }
            let names = roots.map(\.description)
            var fields = [("roots", "[" + names.map { "\"\($0)\"" }.joined(separator: ",") + "]"), ("blocks", "\(count)"), ("bytes", "\(bytes.count)")]
            var lines = ["roots: \(names.isEmpty ? "(none)" : names.joined(separator: " "))", "blocks: \(count)", "bytes: \(bytes.count)"]
            if let summary {
                let commit = summary.commit
                let rev = commit.rev?.description ?? ""
                fields += [("did", "\"\(commit.did)\""), ("rev", "\"\(rev)\""), ("data", "\"\(commit.data)\""), ("records", "\(summary.records)")]
                lines += ["did: \(commit.did)", "rev: \(rev)", "data: \(commit.data)", "records: \(summary.records)"]
                if publicKey == nil {
                    FileHandle.standardError.write(Data("note: no --key given: everything but the commit signature was checked\n".utf8))
                }
            }
            if json {
                writeLine("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
            } else {
                lines.forEach(writeLine)
                writeLine(repo ? "ok: the repository verifies" + (key == nil ? " (signature not checked)" : "") : "ok: every block matches its CID")
            }
            exitAfterOutput()
        }
    }

    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cat", abstract: "Print one block as atproto JSON.")

        @Argument(help: "The CAR file.") var file: String
        @Argument(help: "The block's CID.") var cid: String

        func run() throws {
            let wanted: CID
            do { wanted = try CID(cid) } catch { throw ValidationError("\(cid) is not a CID: \(error.message)") }
            let bytes = try mapFile(file)
            var found: DataValue?
            do {
                let reader = try CARReader(bytes)
                try reader.forEachBlock { (cid, data) throws(DataError) in
                    guard found == nil, cid == wanted else { return }
                    found = cid.codec == .dagCBOR ? try DAGCBOR.decode(data) : .bytes(Array(data))
                }
            } catch {
                throw CLIFailure("\(file): \(error)")
            }
            guard let found else { throw CLIFailure("\(file): no block \(wanted)") }
            writeLine(found.jsonString(prettyPrinted: true))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List a repository's records: collection/rkey and CID, in key order.")

        @Argument(help: "The repository CAR file.") var file: String

        func run() throws {
            do {
                let repository = try Repository.open(car: try mapFile(file))
                for (path, cid) in try repository.recordCIDs() { writeLine("\(path)\t\(cid)") }
            } catch let failure as CLIFailure {
                throw failure
            } catch {
                throw CLIFailure("\(file): \(error)")
            }
        }
    }

    struct Blocks: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "blocks", abstract: "List the blocks of a CAR file: CID, codec and size.")

        @Argument(help: "The CAR file.") var file: String

        func run() throws {
            let bytes = try mapFile(file)
            do {
                let reader = try CARReader(bytes)
                try reader.forEachBlock { cid, data in
                    writeLine("\(cid)\t\(cid.codec)\t\(data.count)")
                }
            } catch {
                throw CLIFailure("\(file): \(error)")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Print a repository's records as JSON lines: {\"uri\":…,\"cid\":…,\"value\":…}.")

        @Argument(help: "The repository CAR file.") var file: String

        func run() throws {
            do {
                let repository = try Repository.open(car: try mapFile(file))
                for (path, cid) in try repository.recordCIDs() {
                    let value = try repository.record(path) ?? .null
                    let uri = "at://\(repository.did)/\(path)"
                    let line: DataValue = ["uri": .string(uri), "cid": .string(cid.description), "value": value]
                    writeLine(line.jsonString())
                }
            } catch let failure as CLIFailure {
                throw failure
            } catch {
                throw CLIFailure("\(file): \(error)")
            }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Write a CAR of sample posts, stream it back, check it, and show a record.")

        @Option(help: "How many posts to write.") var records = 1000
        @Option(help: "Where to write the CAR file.") var output = "demo.car"

        func run() async throws {
            guard records > 0 else { throw ValidationError("--records must be positive") }
            let start = ContinuousClock.now
            let posts = (0..<records).map { i -> (CID, [UInt8]) in
                let post: DataValue = [
                    "$type": "app.bsky.feed.post",
                    "text": .string("post number \(i)"),
                    "createdAt": "2024-01-01T00:00:00.000Z",
                    "langs": ["en"],
                ]
                return DAGCBOR.encodeWithCID(post)
            }
            // The root lists every post, so that the file is one connected graph.
            let (root, index) = DAGCBOR.encodeWithCID(["posts": .array(posts.map { .link($0.0) })])
            var writer = CARWriter(roots: [root], sink: [UInt8]())
            try await writer.write(cid: root, data: index)
            for (cid, block) in posts { try await writer.write(cid: cid, data: block) }
            let first = posts.first?.0
            let file = try await writer.finish()
            guard FileManager.default.createFile(atPath: output, contents: Data(file)) else {
                throw CLIFailure("\(output): cannot write file")
            }
            var reader = CARStreamReader(chunked(file, size: 16 << 10))
            var count = 0
            while try await reader.next() != nil { count += 1 }
            let elapsed = ContinuousClock.now - start
            writeLine("wrote \(output): \(count) blocks, \(file.count) bytes, every block verified, in \(elapsed)")
            if let first {
                writeLine("first block \(first):")
                let blocks = try CARReader(file).blockMap()
                writeLine(try DAGCBOR.decode(blocks[first]!).jsonString(prettyPrinted: true))
            }
        }

        private func chunked(_ bytes: [UInt8], size: Int) -> AsyncStream<ArraySlice<UInt8>> {
            AsyncStream { continuation in
                var offset = 0
                while offset < bytes.count {
                    continuation.yield(bytes[offset..<min(offset + size, bytes.count)])
                    offset += size
                }
                continuation.finish()
            }
        }
    }
}
