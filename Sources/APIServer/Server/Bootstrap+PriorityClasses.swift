import APIMachinery

extension APIServer {
    /// Creates the system PriorityClasses that are missing, as upstream's `scheduling/bootstrap-system-priority-classes`
    /// start-up hook does; existing ones are left as they are.
    func bootstrapPriorityClasses() async throws {
        guard let store = store(group: "scheduling.k8s.io", resource: "priorityclasses") else { return }
        for system in PriorityClassStrategy.systemClasses {
            do {
                _ = try await store.get(namespace: nil, name: system.name)
            } catch let error as APIError where error.code == 404 {
                do {
                    _ = try await store.create(
                        namespace: nil,
                        object: PriorityClassStrategy.systemClass(
                            system.name, value: system.value, description: system.description),
                        options: WriteOptions())
                } catch let error as APIError where error.reason == .alreadyExists {}
            }
        }
    }
}
