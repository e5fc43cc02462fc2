// Package appautoscaling serves the Application Auto Scaling API subset
// that `aws application-autoscaling register-scalable-target /
// describe-scalable-targets / deregister-scalable-target /
// put-scaling-policy / describe-scaling-policies / delete-scaling-policy /
// describe-scaling-activities` use for DynamoDB (JSON 1.1, X-Amz-Target:
// AnyScaleFrontendService.<Op>), and runs its target tracking policies on
// cwmetrics' consumed capacity.
//
// # Scaling
//
// Service.Evaluate (the server calls it once a minute; tests on a
// compressed clock after advancing it) evaluates each policy as the alarms
// AWS creates for a DynamoDB target tracking policy do (DynamoDB developer
// guide, "How DynamoDB auto scaling works"), on complete minutes only, and
// only minutes after the policy was created and after the target's latest
// change of capacity:
//
//	utilization(minute) = ConsumedXCapacityUnits Sum / 60 / provisioned × 100
//	high alarm: utilization > TargetValue for 2 consecutive minutes
//	            → ceil(provisioned × utilization / TargetValue), at most MaxCapacity
//	low alarm:  utilization < TargetValue × 0.8 for 15 consecutive minutes
//	            → ceil(provisioned × highest utilization / TargetValue), at least MinCapacity
//
// ScaleOutCooldown delays a further scale-out; ScaleInCooldown a further
// scale-in, which also waits out the scale-out cooldown; DisableScaleIn and
// the target's SuspendedState stop either direction. A change is an
// UpdateTable in process (Tables.SetCapacity), so DynamoDB's own rules on
// decreases apply and its error becomes a Failed activity. Each change is
// a scaling activity with AWS's Description ("Setting write capacity units
// to 10."), Cause ("monitor alarm TargetTracking-table/T-AlarmHigh-<id> in
// state ALARM triggered policy P") and StatusMessage.
//
// # State
//
// Targets, policies and the last Options.MaxActivities activities (1000)
// are kept in the Service's key space (KV, store.SpaceAutoScaling; layout
// in persist.go) and in memory; each change is written, synced, before it
// is applied in memory. The consumed units it acts on are cwmetrics', in
// memory: after a restart the alarms start from empty minutes. One mutex
// guards the state; Evaluate holds it to decide and to record, and
// releases it around UpdateTable.
//
// # Caveats
//
//   - Target tracking with DynamoDB's predefined metrics only: step scaling,
//     scheduled actions, predictive scaling and customized metrics are
//     refused with ValidationException.
//   - The four alarms a policy answers with are names only; eddy has no
//     CloudWatch alarms API.
package appautoscaling
