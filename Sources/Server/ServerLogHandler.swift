import Logging

/// Writes to standard error exactly as swift-log's `StreamLogHandler` does,
/// but formats the logger's metadata only when a message is written.
///
/// Hummingbird gives every request's logger a request id. A
/// `StreamLogHandler` formats its metadata each time it changes, so a busy
/// server formatted a string per request that it almost never wrote.
public struct ServerLogHandler: LogHandler {
    /// The lowest level written.
    public var logLevel: Logger.Level = .info
    /// The logger's metadata, formatted only with a message.
    public var metadata: Logger.Metadata = [:]
    /// Metadata added to every message, as `StreamLogHandler` adds it.
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// A handler for loggers named `label`.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    /// One metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `event` as `StreamLogHandler.standardError` does.
    public func log(event: LogEvent) {
        var stream = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
        stream.logLevel = logLevel
        stream.metadata = metadata
        stream.log(event: event)
    }
}
