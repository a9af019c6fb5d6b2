import ATData
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird

extension Relay {
    /// The relay's XRPC methods: crawl requests, the mirrored repositories,
    /// and its hosts.
    func registerMethods(_ methods: inout XRPCMethods) {
        let crawlLimit = config.crawlRequestLimit.map { ("requestCrawl", $0) }
        for nsid in ["com.atproto.sync.requestCrawl", "com.atproto.sync.notifyOfUpdate"] {
            methods.procedure(nsid, limit: crawlLimit) { [self] call in
                guard case .string(let hostname)? = try await call.input(limit: 4096)["hostname"] else {
                    throw XRPCError.invalidRequest("Input must have the property \"hostname\"")
                }
                try await requestCrawl(hostname)
                return .empty
            }
        }
        methods.query("com.atproto.sync.getRepo", limit: config.getRepoLimit.map { ("getRepo", $0) }) { [self] call in
            let did = try call.require("did") { try DID($0) }
            let since = try call.optional("since") { try TID($0) }
            guard let snapshot = try repos.snapshot(of: did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            return try .repoExport(snapshot, since: since, gate: exports, address: call.context.remoteAddress?.ipAddress ?? "unknown")
        }
        methods.query("com.atproto.sync.getLatestCommit") { [self] call in
            let did = try call.require("did") { try DID($0) }
            guard let root = try repos.root(of: did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            return .json(["cid": .string(root.commit.description), "rev": .string(root.rev.description)])
        }
        methods.query("com.atproto.sync.getRepoStatus") { [self] call in
            let did = try call.require("did") { try DID($0) }
            guard let mirrored = try hosts.mirroredRepo(did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            var out = DataMap(["did": .string(did.description), "active": .bool(mirrored.status == .active)])
            if mirrored.status != .active { out["status"] = .string(mirrored.status.rawValue) }
            if let rev = mirrored.rev { out["rev"] = .string(rev.description) }
            return .json(.map(out))
        }
        methods.query("com.atproto.sync.listRepos") { [self] call in
            let limit = try call.limit(default: 500, range: 1...1000)
            let roots = try repos.repos(after: call.parameter("cursor"), limit: limit)
            var listed = [DataValue]()
            for root in roots {
                var entry = DataMap([
                    "did": .string(root.did.description), "head": .string(root.commit.description), "rev": .string(root.rev.description),
                ])
                let status = try hosts.mirroredRepo(root.did)?.status ?? .active
                entry["active"] = .bool(status == .active)
                if status != .active { entry["status"] = .string(status.rawValue) }
                listed.append(.map(entry))
            }
            var out = DataMap(["repos": .array(listed)])
            if roots.count == limit, let last = roots.last { out["cursor"] = .string(last.did.description) }
            return .json(.map(out))
        }
        methods.query("com.atproto.sync.listHosts") { [self] call in
            let limit = try call.limit(default: 200, range: 1...1000)
            let page = try hosts.hosts(after: call.parameter("cursor"), limit: limit)
            var out = DataMap(["hosts": .array(try page.map { .map(try hostStatus($0)) })])
            if page.count == limit, let last = page.last { out["cursor"] = .string(last.hostname) }
            return .json(.map(out))
        }
        methods.query("com.atproto.sync.getHostStatus") { [self] call in
            let hostname = try call.require("hostname") { try CrawlHost($0).description }
            guard let host = try hosts.host(hostname) else { throw XRPCError.named("HostNotFound", "Host not found: \(hostname)") }
            return .json(.map(try hostStatus(host)))
        }
    }

    private func hostStatus(_ host: HostRecord) throws -> DataMap {
        DataMap([
            "hostname": .string(host.hostname), "seq": .int(host.cursor), "status": .string(host.status.rawValue),
            "accountCount": .int(Int64(try hosts.accountCount(ofHost: host.hostname))),
        ])
    }

    /// `POST /admin/banHost {"hostname": …}` with the admin password (HTTP
    /// Basic, user `admin`): the host is never crawled again.
    func registerAdminRoutes(on router: Router<PDSRequestContext>) {
        router.post("/admin/banHost") { [self] request, context in
            var call = XRPCRequest(request: request, context: context, nsid: "admin.banHost")
            guard let password = config.adminPassword,
                try call.isBasicAuth(user: "admin", password: password, limiter: limiter, attempts: RateLimitRule(limit: 20, window: 300))
            else {
                throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required")
            }
            guard case .string(let hostname)? = try await call.input(limit: 4096)["hostname"] else {
                throw XRPCError.invalidRequest("Input must have the property \"hostname\"")
            }
            try ban(hostname)
            return Response.empty
        }
    }
}
