import Bluesky
import Foundation
import Logging

extension PDS {
    /// The hostname relays crawl this PDS at: the public URL's host and port.
    var crawlHostname: String {
        (try? CrawlHost(publicURL.absoluteString).description) ?? (publicURL.host ?? "localhost")
    }

    /// Asks every configured relay to crawl this PDS, in the background,
    /// retrying for a while when a relay is not up yet.
    func announceToCrawlers() {
        for relay in config.crawlers {
            let hostname = crawlHostname, logger = logger, outbound = outbound
            Task {
                let client = Bluesky(serverURL: relay, retryConfig: .backoff(maxElapsedTime: .seconds(60)), timeout: .seconds(10), transport: outbound)
                do {
                    try await client.sync.requestCrawl(hostname: hostname)
                    logger.info("asked \(relay) to crawl \(hostname)")
                } catch {
                    logger.warning("requestCrawl on \(relay) failed: \(error)")
                }
            }
        }
    }

    /// After a write: `notifyOfUpdate` to the crawlers, when configured and
    /// not done within the interval.
    func notifyCrawlersIfDue() {
        guard let interval = config.notifyInterval, !config.crawlers.isEmpty else { return }
        let now = Date()
        let due = lastNotify.withLock { last in
            guard now.timeIntervalSince(last) >= interval else { return false }
            last = now
            return true
        }
        guard due else { return }
        for relay in config.crawlers {
            let hostname = crawlHostname, logger = logger, outbound = outbound
            Task {
                do {
                    try await Bluesky(serverURL: relay, retryConfig: .none, timeout: .seconds(10), transport: outbound).sync.notifyOfUpdate(hostname: hostname)
                } catch {
                    logger.info("notifyOfUpdate on \(relay) failed: \(error)")
                }
            }
        }
    }
}
