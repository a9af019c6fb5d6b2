/// A paged listing as an `AsyncSequence` of pages.
///
/// Each page is fetched when the loop asks for it. The sequence ends after a
/// page without a cursor, with an empty cursor, or with a cursor it has seen
/// before (a server that repeats itself would otherwise loop forever).
///
/// ```swift
/// for try await page in bluesky.sync.listBlobs(did: did) {
///     for cid in page.cids { … }
/// }
/// ```
public struct Pages<Page: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Page
    public typealias Failure = BlueskyError

    /// Fetches the page at a cursor (`nil` for the first) and returns it with
    /// the cursor of the next.
    public typealias Fetch = @Sendable (_ cursor: String?) async throws(BlueskyError) -> (page: Page, cursor: String?)

    let start: String?
    let fetch: Fetch

    /// Pages from `fetch`, beginning at `cursor`.
    public init(startingAt cursor: String? = nil, fetch: @escaping Fetch) {
        self.start = cursor
        self.fetch = fetch
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(cursor: start, seen: start.map { [$0] } ?? [], fetch: fetch)
    }

    /// Fetches pages one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = Page
        public typealias Failure = BlueskyError

        var cursor: String?
        var seen: Set<String>
        var finished = false
        let fetch: Fetch

        init(cursor: String?, seen: Set<String>, fetch: @escaping Fetch) {
            self.cursor = cursor
            self.seen = seen
            self.fetch = fetch
        }

        public mutating func next() async throws(BlueskyError) -> Page? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(BlueskyError) -> Page? {
            guard !finished else { return nil }
            let (page, next): (Page, String?)
            do {
                (page, next) = try await fetch(cursor)
            } catch {
                finished = true
                throw error
            }
            if let next, !next.isEmpty, seen.insert(next).inserted {
                cursor = next
            } else {
                finished = true
            }
            return page
        }
    }
}

extension Pages {
    /// Every page, collected; stops with an error past `maxPages`.
    public func collect(maxPages: Int = .max) async throws(BlueskyError) -> [Page] {
        var pages = [Page]()
        var iterator = makeAsyncIterator()
        while let page = try await iterator.next() {
            pages.append(page)
            if pages.count > maxPages { throw BlueskyError(kind: .decoding, detail: "more than \(maxPages) pages") }
        }
        return pages
    }
}
