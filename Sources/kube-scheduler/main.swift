import Foundation
import Scheduler

// The guide's kube-scheduler: same flags, same files, Type=notify, one leader among the masters.
exit(await SchedulerCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
