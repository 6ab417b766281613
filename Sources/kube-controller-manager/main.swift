import ControllerManager
import Foundation

// The guide's kube-controller-manager: same flags, same files, Type=notify, one leader among the masters.
exit(await ControllerManagerCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
