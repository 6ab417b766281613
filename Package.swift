// swift-tools-version:6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "KubeSwift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kube-apiserver", targets: ["kube-apiserver"]),
        .executable(name: "kube-scheduler", targets: ["kube-scheduler"]),
        .executable(name: "kube-controller-manager", targets: ["kube-controller-manager"]),
        .executable(name: "kubeswift", targets: ["kubeswift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "TestSupport",
            dependencies: [
                "Operations", "APIServer", "Component", "Client", "ControllerManager",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),
        .target(
            name: "Component",
            dependencies: [
                "Operations",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: upcoming),
        .target(
            name: "APIMachinery",
            swiftSettings: upcoming
        ),
        .target(name: "Schemas", dependencies: ["APIMachinery"], swiftSettings: upcoming),
        .target(name: "Authorization", dependencies: ["APIMachinery"], swiftSettings: upcoming),
        .target(name: "Quota", dependencies: ["APIMachinery"], swiftSettings: upcoming),
        .target(name: "CEL", dependencies: ["APIMachinery"], swiftSettings: upcoming),
        .target(name: "StructuralSchema", dependencies: ["APIMachinery", "CEL"], swiftSettings: upcoming),
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift")
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "HTTP2Streams",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "EtcdStore",
            dependencies: [
                "Storage", "HTTP2Streams",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "APIServer",
            dependencies: [
                "APIMachinery", "Schemas", "StructuralSchema", "Storage", "EtcdStore", "Operations", "Component",
                "Authorization", "Quota", "HTTP2Streams",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            // The web pages of --enable-swagger-ui, compiled into the binary (SwaggerUI/WebPages.swift).
            resources: [
                .embedInCode("SwaggerUI/Assets/explorer.html"), .embedInCode("SwaggerUI/Assets/explorer.js"),
                .embedInCode("SwaggerUI/Assets/explorer.css"), .embedInCode("SwaggerUI/Assets/overview.html"),
                .embedInCode("SwaggerUI/Assets/overview.js"), .embedInCode("SwaggerUI/Assets/overview.css"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Operations",
            dependencies: [
                "APIMachinery",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Client",
            dependencies: [
                "APIMachinery", "Operations", "Component", "HTTP2Streams",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Scheduler",
            dependencies: [
                "Client", "APIMachinery", "Component", "Operations",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "NodeSimulator",
            dependencies: [
                "Client", "APIMachinery", "Component",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(name: "kube-scheduler", dependencies: ["Scheduler"], swiftSettings: upcoming),
        .target(
            name: "ControllerManager",
            dependencies: [
                "Client", "APIMachinery", "Component", "Operations", "Quota", "Authorization",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "kube-controller-manager", dependencies: ["ControllerManager"], swiftSettings: upcoming),
        .executableTarget(
            name: "kube-apiserver",
            dependencies: ["APIServer"],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "kubeswift",
            dependencies: [
                "APIServer", "Operations", "Storage", "EtcdStore", "Component", "Client", "APIMachinery", "Scheduler",
                "ControllerManager", "NodeSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "storage-crash-writer",
            dependencies: ["Storage"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "APIMachineryTests", dependencies: ["APIMachinery", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: upcoming),
        .testTarget(
            name: "StorageTests", dependencies: ["Storage", "EtcdStore", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "HTTP2StreamsTests",
            dependencies: [
                "HTTP2Streams",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "EtcdStoreTests",
            dependencies: [
                "EtcdStore", "HTTP2Streams", "Storage", "TestSupport", "Operations",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "SchemasTests", dependencies: ["Schemas", "APIMachinery", "TestSupport"], exclude: ["Fixtures"],
            swiftSettings: upcoming),
        .testTarget(
            name: "APIServerTests",
            dependencies: [
                "APIServer", "Operations", "Storage", "APIMachinery", "TestSupport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            exclude: ["Python", "Fixtures"], swiftSettings: upcoming),
        .testTarget(name: "OperationsTests", dependencies: ["Operations"], swiftSettings: upcoming),
        .testTarget(name: "CELTests", dependencies: ["CEL", "APIMachinery"], swiftSettings: upcoming),
        .testTarget(
            name: "StructuralSchemaTests", dependencies: ["StructuralSchema", "APIMachinery"], swiftSettings: upcoming),
        .testTarget(
            name: "ComponentTests",
            dependencies: [
                "Component", "Operations",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "AuthorizationTests", dependencies: ["Authorization", "APIMachinery", "TestSupport"],
            swiftSettings: upcoming),
        .testTarget(
            name: "SchedulerTests", dependencies: ["Scheduler", "Client", "APIMachinery", "Component", "TestSupport"],
            swiftSettings: upcoming),
        .testTarget(
            name: "NodeSimulatorTests",
            dependencies: ["NodeSimulator", "Client", "APIMachinery", "TestSupport"],
            swiftSettings: upcoming),
        .testTarget(
            name: "ControllerManagerTests",
            dependencies: [
                "ControllerManager", "Client", "APIMachinery", "Component", "TestSupport", "Operations", "APIServer",
                "Quota",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "Client", "APIServer", "TestSupport", "Operations", "Storage", "APIMachinery", "Component",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "kubeswiftTests", dependencies: ["kubeswift", "TestSupport", "APIMachinery", "Client"],
            swiftSettings: upcoming),
    ],
    swiftLanguageModes: [.v6]
)
