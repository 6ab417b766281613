import APIServer
import Foundation

// The guide's kube-apiserver: same flags, same files, Type=notify.
exit(await APIServerCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
