import APIMachinery
import XCTest

@testable import APIServer

/// The HorizontalPodAutoscaler version conversion and the CSR rules, without a server.
final class BuiltInKindsConversionTests: XCTestCase {
    static let stored: JSON = [
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": ["name": "web", "namespace": "default", "annotations": ["team": "web"]],
        "spec": [
            "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"], "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                [
                    "type": "Pods",
                    "pods": [
                        "metric": ["name": "requests"], "target": ["type": "AverageValue", "averageValue": "10"],
                    ],
                ],
                [
                    "type": "Resource",
                    "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 50]],
                ],
            ],
            "behavior": [
                "scaleDown": [
                    "stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                    "policies": [["type": "Percent", "value": 100, "periodSeconds": 15]],
                ]
            ],
        ],
        "status": [
            "currentReplicas": 2, "desiredReplicas": 3,
            "currentMetrics": [
                [
                    "type": "Resource",
                    "resource": ["name": "cpu", "current": ["averageUtilization": 70, "averageValue": "140m"]],
                ]
            ],
            "conditions": [["type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"]],
        ],
    ]

    func testV2ReadInV1CarriesTheRestInAnnotationsAndConvertsBack() throws {
        let conversion = AutoscalingConversion()
        let served = conversion.fromStorage(Self.stored)
        XCTAssertEqual(served["apiVersion"], "autoscaling/v1")
        XCTAssertEqual(served["spec"]?["targetCPUUtilizationPercentage"], 50)
        XCTAssertEqual(served["status"]?["currentCPUUtilizationPercentage"], 70)
        XCTAssertNil(served["spec"]?["metrics"])
        let annotations = try XCTUnwrap(served["metadata"]?["annotations"]?.objectValue)
        XCTAssertEqual(annotations["team"], "web")
        XCTAssertEqual(
            try JSON.parse(Array((annotations[AutoscalingConversion.metricsAnnotation]?.stringValue ?? "").utf8)),
            [["type": "Pods", "pods": ["metricName": "requests", "targetAverageValue": "10"]]])
        let behavior = try JSON.parse(
            Array((annotations[AutoscalingConversion.behaviorAnnotation]?.stringValue ?? "").utf8))
        XCTAssertEqual(behavior["ScaleUp"], .null, "upstream marshals its internal type: Go names, nil as null")
        XCTAssertEqual(behavior["ScaleDown"]?["StabilizationWindowSeconds"], 60)

        let back = conversion.toStorage(served)
        XCTAssertEqual(back, Self.stored)
    }

    func testV1WithoutMetricsGetsTheImplicitCPUTarget() {
        let v1: JSON = [
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "api"],
            "spec": ["scaleTargetRef": ["kind": "Deployment", "name": "api"], "maxReplicas": 3],
        ]
        let stored = AutoscalingConversion().toStorage(v1)
        XCTAssertEqual(stored["spec"]?["metrics"], [HorizontalPodAutoscalerStrategy.cpuMetric])
        XCTAssertNil(stored["metadata"]?["annotations"])
    }

    func testSignerNamesFollowUpstreamsRules() {
        let validate = CertificateSigningRequestStrategy.validateSignerName
        XCTAssertEqual(validate("example.com/signer", "spec.signerName"), [])
        XCTAssertEqual(
            validate("", "spec.signerName").map(\.description),
            ["spec.signerName: Required value: signerName must be provided"])
        XCTAssertEqual(
            validate("no-slash", "spec.signerName").map(\.description),
            [
                "spec.signerName: Invalid value: \"no-slash\": must be a fully qualified domain and path of the form 'example.com/signer-name'"
            ])
        XCTAssertEqual(
            validate("Example.com/x", "f").first?.description.hasPrefix(
                "f: Invalid value: \"Example.com\": validating label \"Example\""),
            true)
    }

    func testApprovalConditionsAreTheApprovalSubresourcesAlone() {
        let strategy = CertificateSigningRequestStrategy()
        let old: JSON = [
            "spec": ["signerName": "example.com/x", "username": "alice"],
            "status": [
                "conditions": [["type": "Approved", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"]]
            ],
        ]
        // A status writer cannot drop the approval nor add a denial.
        var status: JSON = [
            "spec": ["signerName": "example.com/evil"],
            "status": ["certificate": "Y2VydA==", "conditions": [["type": "Denied", "status": "True"]]],
        ]
        strategy.prepareForStatusUpdate(&status, old: old)
        XCTAssertEqual(status["spec"], old["spec"])
        XCTAssertEqual(status["status"]?["certificate"], "Y2VydA==")
        XCTAssertEqual(status["status"]?["conditions"]?.arrayValue?.map { $0["type"] }, ["Approved"])
        XCTAssertEqual(
            status["status"]?["conditions"]?.arrayValue?.first?["lastTransitionTime"], "2026-01-01T00:00:00Z")
        // An approval writer changes the conditions only.
        var approval: JSON = ["status": ["certificate": "Zm9v", "conditions": [["type": "Failed", "status": "True"]]]]
        strategy.prepareForApprovalUpdate(&approval, old: old)
        XCTAssertNil(approval["status"]?["certificate"])
        XCTAssertEqual(approval["status"]?["conditions"]?.arrayValue?.map { $0["type"] }, ["Failed"])
        XCTAssertEqual(
            strategy.validateUpdate(approval, old: old).map(\.description).filter { $0.contains("remove") },
            ["status.conditions: Forbidden: updates may not remove a condition of type \"Approved\""])
    }
}
