import ATData
import ATProtoAPI
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird

private typealias Sync = Com.Atproto.Sync

extension Relay {
    /// The relay's XRPC methods: crawl requests, the mirrored repositories,
    /// and its hosts.
    func registerMethods(_ methods: inout XRPCMethods) {
        let crawlLimit = config.crawlRequestLimit.map { ("requestCrawl", $0) }
        methods.procedure(Sync.RequestCrawl.nsid, limit: crawlLimit) { [self] call in
            try await requestCrawl(try await call.input(Sync.RequestCrawl.Input.self, limit: 4096).hostname)
            return .empty
        }
        methods.procedure(Sync.NotifyOfUpdate.nsid, limit: crawlLimit) { [self] call in
            try await requestCrawl(try await call.input(Sync.NotifyOfUpdate.Input.self, limit: 4096).hostname)
            return .empty
        }
        methods.query(Sync.GetRepo.nsid, limit: config.getRepoLimit.map { ("getRepo", $0) }) { [self] call in
            let params = try call.parameters(Sync.GetRepo.Parameters.self)
            if let refusal = try hosts.mirroredRepo(params.did)?.status.readError { throw refusal }
            guard let snapshot = try repos.snapshot(of: params.did) else {
                throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(params.did)")
            }
            return try .repoExport(snapshot, since: params.since, gate: exports, address: call.context.remoteAddress?.ipAddress ?? "unknown")
        }
        methods.query(Sync.GetLatestCommit.nsid) { [self] call in
            let did = try call.parameters(Sync.GetLatestCommit.Parameters.self).did
            if let refusal = try hosts.mirroredRepo(did)?.status.readError { throw refusal }
            guard let root = try repos.root(of: did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            return .lex(Sync.GetLatestCommit.Output(cid: root.commit, rev: root.rev))
        }
        methods.query(Sync.GetRepoStatus.nsid) { [self] call in
            let did = try call.parameters(Sync.GetRepoStatus.Parameters.self).did
            guard let mirrored = try hosts.mirroredRepo(did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            return .lex(Sync.GetRepoStatus.Output(
                did: did, active: mirrored.status == .active, status: mirrored.status == .active ? nil : mirrored.status.rawValue, rev: mirrored.rev))
        }
        methods.query(Sync.ListRepos.nsid) { [self] call in
            let params = try call.parameters(Sync.ListRepos.Parameters.self)
            let limit = params.limit ?? 500
            let roots = try repos.repos(after: params.cursor, limit: limit)
            var listed = [Sync.ListRepos.Repo]()
            for root in roots {
                let status = try hosts.mirroredRepo(root.did)?.status ?? .active
                listed.append(.init(
                    did: root.did, head: root.commit, rev: root.rev, active: status == .active, status: status == .active ? nil : status.rawValue))
            }
            return .lex(Sync.ListRepos.Output(cursor: roots.count == limit ? roots.last?.did.description : nil, repos: listed))
        }
        methods.query(Sync.ListHosts.nsid) { [self] call in
            let params = try call.parameters(Sync.ListHosts.Parameters.self)
            let limit = params.limit ?? 200
            let page = try hosts.hosts(after: params.cursor, limit: limit)
            return .lex(Sync.ListHosts.Output(
                cursor: page.count == limit ? page.last?.hostname : nil, hosts: try page.map { try hostStatus($0, as: Sync.ListHosts.Host.self) }))
        }
        methods.query(Sync.GetHostStatus.nsid) { [self] call in
            let text = try call.parameters(Sync.GetHostStatus.Parameters.self).hostname
            let hostname: String
            do { hostname = try CrawlHost(text).description } catch { throw XRPCError.invalidRequest("Error: hostname is invalid: \(error)") }
            guard let host = try hosts.host(hostname) else { throw XRPCError.named("HostNotFound", "Host not found: \(hostname)") }
            let status = try hostStatus(host, as: Sync.ListHosts.Host.self)
            return .lex(Sync.GetHostStatus.Output(hostname: status.hostname, seq: status.seq, accountCount: status.accountCount, status: status.status))
        }
    }

    private func hostStatus(_ host: HostRecord, as type: Sync.ListHosts.Host.Type) throws -> Sync.ListHosts.Host {
        Sync.ListHosts.Host(
            hostname: host.hostname, seq: Int(host.cursor), accountCount: try hosts.accountCount(ofHost: host.hostname),
            status: host.status.rawValue)
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
            try ban(try await call.input(Sync.RequestCrawl.Input.self, limit: 4096).hostname)
            return Response.empty
        }
    }
}
