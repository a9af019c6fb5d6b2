// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "bluesky-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ATSyntax", targets: ["ATSyntax"]),
        .library(name: "ATData", targets: ["ATData"]),
        .library(name: "ATCrypto", targets: ["ATCrypto"]),
        .library(name: "ATRepo", targets: ["ATRepo"]),
        .library(name: "ATLexicon", targets: ["ATLexicon"]),
        .library(name: "Bluesky", targets: ["Bluesky"]),
        .library(name: "Server", targets: ["Server"]),
        .executable(name: "bsky", targets: ["bsky"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(name: "ATSyntax"),
        .target(
            name: "ATData",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // OpenSSL's libcrypto, for secp256k1 (libssl-dev on Debian).
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"]), .brew(["openssl"])]),
        .target(
            name: "ATCrypto",
            dependencies: ["ATData", "COpenSSL", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "ATRepo", dependencies: ["ATSyntax", "ATData", "ATCrypto"]),
        .target(
            name: "ATLexicon",
            dependencies: ["ATSyntax", "ATData"],
            resources: [.copy("Resources/lexicons")]
        ),
        .target(
            name: "Bluesky",
            dependencies: [
                "ATSyntax", "ATData", "ATCrypto", "ATRepo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HTTPTypesFoundation", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ]
        ),
        .target(
            name: "Server",
            dependencies: [
                "ATSyntax", "ATData", "ATCrypto", "ATRepo", "ATLexicon", "Bluesky",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "bsky",
            dependencies: [
                "ATSyntax", "ATData", "ATCrypto", "ATRepo", "Bluesky", "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ATBench",
            dependencies: ["ATData", "ATCrypto", "ATRepo", "ATSyntax", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/ATBench"
        ),
        .target(name: "BenchSupport", path: "Benchmarks/BenchSupport"),
        .executableTarget(
            name: "PDSBench",
            dependencies: ["ATData", "ATSyntax", "Bluesky", "BenchSupport"],
            path: "Benchmarks/PDSBench"
        ),
        .executableTarget(
            name: "RelayBench",
            dependencies: ["ATData", "ATSyntax", "Bluesky", "BenchSupport", "Server"],
            path: "Benchmarks/RelayBench"
        ),
        // libFuzzer targets; see Fuzz/README.md. A plain build replays inputs instead.
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzDAGCBOR", dependencies: ["ATData", "FuzzSupport"]),
        .executableTarget(name: "FuzzCAR", dependencies: ["ATData", "FuzzSupport"]),
        .executableTarget(
            name: "FuzzXRPC",
            dependencies: [
                "ATData", "ATSyntax", "FuzzSupport",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
            ]
        ),
        .executableTarget(name: "FuzzFrame", dependencies: ["ATData", "ATCrypto", "ATRepo", "Bluesky", "FuzzSupport"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ATSyntaxTests", dependencies: ["ATSyntax", "TestSupport"]),
        .testTarget(name: "ATDataTests", dependencies: ["ATData", "TestSupport"]),
        .testTarget(name: "ATCryptoTests", dependencies: ["ATCrypto", "ATData", "TestSupport"]),
        .testTarget(name: "ATRepoTests", dependencies: ["ATRepo", "ATData", "TestSupport"]),
        .testTarget(name: "ATLexiconTests", dependencies: ["ATLexicon", "ATData", "ATSyntax", "TestSupport"]),
        .testTarget(name: "BlueskyTests", dependencies: ["Bluesky", "ATData", "ATRepo", "ATCrypto", "ATSyntax", "TestSupport"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "ATRepo", "ATData", "ATCrypto", "ATSyntax", "Bluesky", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "ATData", "ATCrypto", "ATRepo", "ATSyntax", "Bluesky", "Server", "TestSupport", "bsky",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
