import APIMachinery

extension StrategicMerger {
    /// Merges a patch list into an original list according to the field's patch strategy.
    func mergeListField(
        _ original: [JSON], _ patch: [JSON], schema: Schema?, isDeleteList: Bool, path: String
    ) throws(StrategicMergePatchError) -> [JSON] {
        let itemSchema = items(schema)
        // Deletion lists apply whatever the field's strategy, as upstream does; other lists
        // without the merge strategy are atomic and the patch replaces them.
        guard PatchStrategy(schema).merge || isDeleteList else {
            return try freshList(patch, itemSchema: itemSchema, path: path)
        }
        return try mergeList(
            original, patch, itemSchema: itemSchema, mergeKey: schema?.patchMergeKey, isDeleteList: isDeleteList,
            path: path)
    }

    private enum ElementKind { case object, scalar }

    /// Lists being merged must hold only objects or only scalars; nil when both are empty.
    private static func elementKind(
        _ original: [JSON], _ patch: [JSON], path: String
    ) throws(StrategicMergePatchError) -> ElementKind? {
        var kind: ElementKind?
        for item in original + patch {
            let itemKind: ElementKind
            switch item {
            case .object: itemKind = .object
            case .array: throw StrategicMergePatchError("\(path): lists of lists cannot be merged")
            default: itemKind = .scalar
            }
            if let kind, kind != itemKind {
                throw StrategicMergePatchError("\(path): list mixes objects and plain values")
            }
            kind = itemKind
        }
        return kind
    }

    /// Upstream's `mergeSlice`: a union for values, a merge by key for objects.
    private func mergeList(
        _ original: [JSON], _ patch: [JSON], itemSchema: Schema?, mergeKey: String?, isDeleteList: Bool,
        path: String
    ) throws(StrategicMergePatchError) -> [JSON] {
        guard let kind = try Self.elementKind(original, patch, path: path) else { return original }
        if kind == .scalar {
            if isDeleteList {
                let drop = Set(patch)
                return original.filter { !drop.contains($0) }
            }
            var seen = Set<JSON>()
            var merged: [JSON] = []
            for item in original + patch where seen.insert(item).inserted { merged.append(item) }
            return Self.order(merged, keys: merged, by: patch, original: original)
        }
        if isDeleteList {
            throw StrategicMergePatchError("\(path): $deleteFromPrimitiveList applies only to lists of plain values")
        }
        guard let mergeKey, !mergeKey.isEmpty else {
            throw StrategicMergePatchError("\(path): cannot merge a list of objects without a merge key")
        }

        // Marker items first: deletions by key and whole-list replacement.
        var base = original
        var patchItems: [JSONObject] = []
        var replace = false
        for (index, item) in patch.enumerated() {
            guard case .object(let object) = item else { continue }
            guard let directive = object[PatchDirective.marker] else {
                patchItems.append(object)
                continue
            }
            try Self.checkListDirective(directive, path: "\(path)[\(index)]")
            if directive.stringValue == "replace" {
                replace = true
                continue
            }
            guard let value = object[mergeKey] else {
                throw StrategicMergePatchError(
                    "\(path)[\(index)]: $patch: delete needs the merge key \"\(mergeKey)\"")
            }
            base.removeAll { $0[mergeKey] == value }
        }
        if replace {
            return try freshList(patchItems.map(JSON.object), itemSchema: itemSchema, path: path)
        }

        var merged = base
        for object in patchItems {
            guard let value = object[mergeKey] else {
                throw StrategicMergePatchError(
                    "\(path): list item lacks the merge key \"\(mergeKey)\": \(JSON.object(object).jsonString)")
            }
            let itemPath = "\(path)[\(mergeKey)=\(value.jsonString)]"
            if let index = merged.firstIndex(where: { $0[mergeKey] == value }),
                case .object(let current) = merged[index]
            {
                merged[index] = .object(try mergeObject(current, object, schema: itemSchema, path: itemPath))
            } else if let item = try fresh(.object(object), schema: itemSchema, path: itemPath) {
                merged.append(item)
            }
        }
        return Self.order(
            merged, keys: merged.map { $0[mergeKey] }, by: patchItems.map { $0[mergeKey] },
            original: base.map { $0[mergeKey] })
    }

    /// `$setElementOrder/<field>`: merges that field now and orders it as the directive lists.
    func applySetElementOrder(
        to result: inout JSONObject, patch: inout JSONObject, schema: Schema?, path: String
    ) throws(StrategicMergePatchError) {
        let directives = patch.entries.filter { $0.key.hasPrefix(PatchDirective.setElementOrder) }
        for (key, value) in directives {
            patch[key] = nil
            guard let field = try PatchDirective.field(of: key, prefix: PatchDirective.setElementOrder) else {
                continue
            }
            guard case .array(let order) = value else {
                throw StrategicMergePatchError("\(Self.join(path, key)): must be a list")
            }
            let fieldSchema = child(schema, field)
            let fieldPath = Self.join(path, field)
            var originalList: [JSON]?
            if case .array(let list)? = result[field] { originalList = list }
            var patchList: [JSON]?
            switch patch[field] {
            case nil: break
            // Deleting the list wins over ordering it; the main loop does the deletion.
            case .null?: continue
            case .array(let list)?: patchList = list
            case let other?:
                throw StrategicMergePatchError(
                    "\(fieldPath): must be a list to go with \(key), not \(other.typeName)")
            }
            let merged: [JSON]
            switch (originalList, patchList) {
            case (nil, nil): continue
            case (let list?, nil): merged = list
            case (nil, let list?): merged = try freshList(list, itemSchema: items(fieldSchema), path: fieldPath)
            case (let current?, let list?):
                merged = try mergeListField(current, list, schema: fieldSchema, isDeleteList: false, path: fieldPath)
            }
            patch[field] = nil
            let mergeKey = fieldSchema?.patchMergeKey
            // Objects are identified by their merge key, plain values by themselves.
            func identity(_ item: JSON) -> JSON? {
                guard case .object(let object) = item else { return item }
                return mergeKey.flatMap { object[$0] }
            }
            result[field] = .array(
                Self.order(
                    merged, keys: merged.map(identity), by: order.map(identity),
                    original: (originalList ?? []).map(identity)))
        }
    }

    /// Upstream's `normalizeElementOrder`: items named by `order` come in that order, the others
    /// in their original order, and the two runs interleave by original position where both are known.
    static func order(_ items: [JSON], keys: [JSON?], by order: [JSON?], original: [JSON?]) -> [JSON] {
        func rank(_ key: JSON?, in list: [JSON?]) -> Int? {
            guard let key else { return nil }
            return list.firstIndex(of: key)
        }
        var patchRun: [(rank: Int, offset: Int)] = []
        var serverRun: [(rank: Int, offset: Int)] = []
        for (offset, key) in keys.enumerated() {
            if let position = rank(key, in: order) {
                patchRun.append((position, offset))
            } else {
                serverRun.append((rank(key, in: original) ?? Int.max, offset))
            }
        }
        // Sorting by (rank, offset) keeps the sort stable for unranked items.
        let byRank: ((rank: Int, offset: Int), (rank: Int, offset: Int)) -> Bool = {
            ($0.rank, $0.offset) < ($1.rank, $1.offset)
        }
        let right = patchRun.sorted(by: byRank).map(\.offset)
        let left = serverRun.sorted(by: byRank).map(\.offset)
        var result: [JSON] = []
        result.reserveCapacity(items.count)
        var i = 0
        var j = 0
        while i < left.count || j < right.count {
            if j >= right.count {
                result.append(items[left[i]])
                i += 1
            } else if i < left.count, let l = rank(keys[left[i]], in: original),
                let r = rank(keys[right[j]], in: original), l < r
            {
                result.append(items[left[i]])
                i += 1
            } else {
                result.append(items[right[j]])
                j += 1
            }
        }
        return result
    }
}
