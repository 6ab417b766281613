import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a clean shutdown; the sources are only touched at set-up and cancel.
public final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    public init(onSignal: @escaping @Sendable () -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler(handler: onSignal)
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    public func cancel() { for source in sources { source.cancel() } }
}
