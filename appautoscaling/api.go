package appautoscaling

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eddydb/eddy/internal/arn"
	"github.com/eddydb/eddy/internal/uuid"
)

// TargetPrefix starts the X-Amz-Target of every Application Auto Scaling
// operation (JSON 1.1, as the AWS CLI and the SDKs send it).
const TargetPrefix = "AnyScaleFrontendService."

type apiError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errValidation(format string, a ...any) *apiError {
	return &apiError{"ValidationException", fmt.Sprintf(format, a...)}
}

func errNull(field string) *apiError {
	return errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

// errUnsupported is AWS's answer to a namespace, resource ID and dimension
// that do not go together (seen in pulumi/pulumi-policy-aws#11).
var errUnsupported = errValidation("Unsupported service namespace, resource type or scalable dimension")

// The service namespaces Application Auto Scaling knows; eddy scales
// dynamodb only.
var namespaces = []string{"ecs", "elasticmapreduce", "ec2", "appstream", "dynamodb", "rds", "sagemaker",
	"custom-resource", "comprehend", "lambda", "cassandra", "kafka", "elasticache", "neptune", "workspaces"}

// The scalable dimensions of DynamoDB.
var dimensions = []string{"dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits",
	"dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits"}

// resource is a scalable target's identity.
type resource struct {
	Region, ResourceID, Dimension string
}

// parsed is a resource's table, index (or "") and whether it scales
// writes.
func (r resource) parsed() (table, index string, write bool) {
	rest := strings.TrimPrefix(r.ResourceID, "table/")
	table, index, _ = strings.Cut(rest, "/index/")
	return table, index, strings.HasSuffix(r.Dimension, "WriteCapacityUnits")
}

// checkResource validates a namespace, resource ID and dimension as AWS
// does: each as an enum or required field, then that they go together
// (table/T with dynamodb:table:*, table/T/index/I with dynamodb:index:*).
func checkResource(ns, id, dim *string, need bool) error {
	if ns == nil {
		return errNull("serviceNamespace")
	}
	if !slices.Contains(namespaces, *ns) {
		return errValidation("1 validation error detected: Value '%s' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [%s]", *ns, strings.Join(namespaces, ", "))
	}
	if !need && id == nil && dim == nil {
		return nil
	}
	if need && id == nil {
		return errNull("resourceId")
	}
	if need && dim == nil {
		return errNull("scalableDimension")
	}
	if dim != nil && !strings.Contains(*dim, ":") {
		return errValidation("1 validation error detected: Value '%s' at 'scalableDimension' failed to satisfy constraint: Member must satisfy enum value set", *dim)
	}
	if *ns != "dynamodb" {
		return errUnsupported
	}
	if dim != nil && !slices.Contains(dimensions, *dim) {
		return errUnsupported
	}
	if id != nil {
		rest, ok := strings.CutPrefix(*id, "table/")
		table, index, hasIndex := strings.Cut(rest, "/index/")
		if !ok || table == "" || strings.Contains(table, "/") || (hasIndex && (index == "" || strings.Contains(index, "/"))) {
			return errUnsupported
		}
		if dim != nil && hasIndex != strings.HasPrefix(*dim, "dynamodb:index:") {
			return errUnsupported
		}
	}
	return nil
}

// Handler serves the Application Auto Scaling operations eddy implements
// (POST / with X-Amz-Target: AnyScaleFrontendService.<Op>, JSON 1.1):
// RegisterScalableTarget, DescribeScalableTargets,
// DeregisterScalableTarget, PutScalingPolicy, DescribeScalingPolicies,
// DeleteScalingPolicy and DescribeScalingActivities, for DynamoDB tables
// and global secondary indexes.
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", uuid.New())
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, &apiError{"SerializationException", err.Error()})
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	region := s.opts.Region
	if sc, err := arn.ParseScope(r); err == nil && sc.Region != "" {
		region = sc.Region
	}
	var res any
	switch op {
	case "RegisterScalableTarget":
		res, err = run(body, region, s.register)
	case "DescribeScalableTargets":
		res, err = run(body, region, s.describeTargets)
	case "DeregisterScalableTarget":
		res, err = run(body, region, s.deregister)
	case "PutScalingPolicy":
		res, err = run(body, region, s.putPolicy)
	case "DescribeScalingPolicies":
		res, err = run(body, region, s.describePolicies)
	case "DeleteScalingPolicy":
		res, err = run(body, region, s.deletePolicy)
	case "DescribeScalingActivities":
		res, err = run(body, region, s.describeActivities)
	default:
		err = &apiError{"UnknownOperationException", ""}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	b, _ := json.Marshal(res)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

func run[In any](body []byte, region string, op func(string, *In) (any, error)) (any, error) {
	var in In
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &apiError{"SerializationException", err.Error()}
	}
	return op(region, &in)
}

func writeError(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{"InternalServiceException", err.Error()}
	}
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// epochTime is a JSON 1.1 timestamp: epoch seconds with milliseconds.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64)), nil
}

type targetIn struct {
	ServiceNamespace  *string         `json:"ServiceNamespace"`
	ResourceID        *string         `json:"ResourceId"`
	ScalableDimension *string         `json:"ScalableDimension"`
	MinCapacity       *int64          `json:"MinCapacity"`
	MaxCapacity       *int64          `json:"MaxCapacity"`
	RoleARN           *string         `json:"RoleARN"`
	SuspendedState    *SuspendedState `json:"SuspendedState"`
}

// SuspendedState pauses parts of a target's scaling.
type SuspendedState struct {
	DynamicScalingInSuspended  bool `json:"DynamicScalingInSuspended"`
	DynamicScalingOutSuspended bool `json:"DynamicScalingOutSuspended"`
	ScheduledScalingSuspended  bool `json:"ScheduledScalingSuspended"`
}

func (s *Service) register(region string, in *targetIn) (any, error) {
	if err := checkResource(in.ServiceNamespace, in.ResourceID, in.ScalableDimension, true); err != nil {
		return nil, err
	}
	for _, c := range []*int64{in.MinCapacity, in.MaxCapacity} {
		if c != nil && *c < 0 {
			return nil, errValidation("1 validation error detected: Value '%d' at 'minCapacity' failed to satisfy constraint: Member must have value greater than or equal to 0", *c)
		}
	}
	r := resource{region, *in.ResourceID, *in.ScalableDimension}
	table, index, _ := r.parsed()
	if _, _, err := s.tables.Capacity(region, table, index); err != nil {
		// AWS: "ValidationException: DynamoDB table does not exist: table/MyTable"
		// (terraform-aws-modules/terraform-aws-dynamodb-table#15).
		if index != "" {
			return nil, errValidation("DynamoDB index does not exist: %s", r.ResourceID)
		}
		return nil, errValidation("DynamoDB table does not exist: %s", r.ResourceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[r]
	if t == nil {
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, errValidation("MinCapacity and MaxCapacity are required for registering a new scalable target")
		}
		t = &target{resource: r, created: s.opts.Now(), arn: fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s",
			region, s.opts.AccountID, strings.ReplaceAll(uuid.New(), "-", "")[:28])}
	}
	nt := *t // changed and saved before it replaces t
	if in.MinCapacity != nil {
		nt.min = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		nt.max = *in.MaxCapacity
	}
	if nt.min > nt.max {
		return nil, errValidation("Minimum capacity cannot be greater than maximum capacity")
	}
	if nt.min < 1 {
		return nil, errValidation("Minimum capacity for DynamoDB must be at least 1")
	}
	if in.RoleARN != nil {
		nt.role = *in.RoleARN
	}
	if nt.role == "" {
		nt.role = fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable", s.opts.AccountID)
	}
	if in.SuspendedState != nil {
		nt.suspended = *in.SuspendedState
	}
	if err := s.save(map[string]any{string(targetKey(r)): nt.rec()}); err != nil {
		return nil, err
	}
	*t = nt
	s.targets[r] = t
	return map[string]string{"ScalableTargetARN": t.arn}, nil
}

type listIn struct {
	ServiceNamespace  *string  `json:"ServiceNamespace"`
	ResourceIDs       []string `json:"ResourceIds"`
	ResourceID        *string  `json:"ResourceId"`
	ScalableDimension *string  `json:"ScalableDimension"`
	PolicyNames       []string `json:"PolicyNames"`
	MaxResults        *int     `json:"MaxResults"`
	NextToken         *string  `json:"NextToken"`
}

// page cuts items to the request's MaxResults from its NextToken.
func page[T any](items []T, in *listIn, maxv int) ([]T, *string, error) {
	limit := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxv {
			return nil, nil, errValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *in.MaxResults, maxv)
		}
		limit = *in.MaxResults
	}
	off := 0
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o") || n < 0 {
			return nil, nil, &apiError{"InvalidNextTokenException", "Invalid token"}
		}
		off = min(n, len(items))
	}
	end := min(off+limit, len(items))
	var next *string
	if end < len(items) {
		t := base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(end)))
		next = &t
	}
	return items[off:end], next, nil
}

type targetOut struct {
	ServiceNamespace  string         `json:"ServiceNamespace"`
	ResourceID        string         `json:"ResourceId"`
	ScalableDimension string         `json:"ScalableDimension"`
	MinCapacity       int64          `json:"MinCapacity"`
	MaxCapacity       int64          `json:"MaxCapacity"`
	RoleARN           string         `json:"RoleARN"`
	CreationTime      epochTime      `json:"CreationTime"`
	SuspendedState    SuspendedState `json:"SuspendedState"`
	ScalableTargetARN string         `json:"ScalableTargetARN"`
}

func (s *Service) describeTargets(region string, in *listIn) (any, error) {
	if err := checkResource(in.ServiceNamespace, nil, in.ScalableDimension, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []targetOut
	for _, t := range s.sortedTargets() {
		if t.Region != region || *in.ServiceNamespace != "dynamodb" ||
			(len(in.ResourceIDs) > 0 && !slices.Contains(in.ResourceIDs, t.ResourceID)) ||
			(in.ScalableDimension != nil && *in.ScalableDimension != t.Dimension) {
			continue
		}
		all = append(all, targetOut{"dynamodb", t.ResourceID, t.Dimension, t.min, t.max, t.role, epochTime(t.created), t.suspended, t.arn})
	}
	s.mu.Unlock()
	items, next, err := page(all, in, 50)
	if err != nil {
		return nil, err
	}
	return struct {
		ScalableTargets []targetOut `json:"ScalableTargets"`
		NextToken       *string     `json:"NextToken,omitempty"`
	}{append([]targetOut{}, items...), next}, nil
}

// errNoTarget is AWS's answer for a target that is not registered (seen in
// ansible/ansible#40237).
func errNoTarget(r resource) error {
	return &apiError{"ObjectNotFoundException", fmt.Sprintf("No scalable target registered for service namespace: dynamodb, resource ID: %s, scalable dimension: %s", r.ResourceID, r.Dimension)}
}

func (s *Service) deregister(region string, in *targetIn) (any, error) {
	if err := checkResource(in.ServiceNamespace, in.ResourceID, in.ScalableDimension, true); err != nil {
		return nil, err
	}
	r := resource{region, *in.ResourceID, *in.ScalableDimension}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.targets[r] == nil {
		return nil, errNoTarget(r)
	}
	// Deregistering a target deletes its scaling policies.
	del := [][]byte{targetKey(r)}
	for k, p := range s.policies {
		if p.resource == r {
			del = append(del, policyKeyOf(k))
		}
	}
	if err := s.save(nil, del...); err != nil {
		return nil, err
	}
	delete(s.targets, r)
	for k, p := range s.policies {
		if p.resource == r {
			delete(s.policies, k)
		}
	}
	return struct{}{}, nil
}

// TargetTracking is a target tracking policy's configuration (DynamoDB's
// predefined utilization metrics only).
type TargetTracking struct {
	TargetValue                   *float64 `json:"TargetValue"`
	PredefinedMetricSpecification *struct {
		PredefinedMetricType string  `json:"PredefinedMetricType"`
		ResourceLabel        *string `json:"ResourceLabel,omitempty"`
	} `json:"PredefinedMetricSpecification,omitempty"`
	CustomizedMetricSpecification json.RawMessage `json:"CustomizedMetricSpecification,omitempty"`
	ScaleOutCooldown              *int64          `json:"ScaleOutCooldown,omitempty"`
	ScaleInCooldown               *int64          `json:"ScaleInCooldown,omitempty"`
	DisableScaleIn                *bool           `json:"DisableScaleIn,omitempty"`
}

type policyIn struct {
	PolicyName        *string         `json:"PolicyName"`
	ServiceNamespace  *string         `json:"ServiceNamespace"`
	ResourceID        *string         `json:"ResourceId"`
	ScalableDimension *string         `json:"ScalableDimension"`
	PolicyType        *string         `json:"PolicyType"`
	TargetTracking    *TargetTracking `json:"TargetTrackingScalingPolicyConfiguration"`
	StepScaling       json.RawMessage `json:"StepScalingPolicyConfiguration"`
}

type alarm struct {
	AlarmName string `json:"AlarmName"`
	AlarmARN  string `json:"AlarmARN"`
}

func (s *Service) putPolicy(region string, in *policyIn) (any, error) {
	if in.PolicyName == nil {
		return nil, errNull("policyName")
	}
	if err := checkResource(in.ServiceNamespace, in.ResourceID, in.ScalableDimension, true); err != nil {
		return nil, err
	}
	typ := "StepScaling" // AWS's default PolicyType
	if in.PolicyType != nil {
		typ = *in.PolicyType
	}
	switch typ {
	case "TargetTrackingScaling":
	case "StepScaling", "PredictiveScaling":
		return nil, errValidation("%s is not supported for service namespace dynamodb: use TargetTrackingScaling", typ)
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'policyType' failed to satisfy constraint: Member must satisfy enum value set: [PredictiveScaling, StepScaling, TargetTrackingScaling]", typ)
	}
	tt := in.TargetTracking
	if tt == nil {
		return nil, errValidation("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling")
	}
	if tt.TargetValue == nil {
		return nil, errNull("targetTrackingScalingPolicyConfiguration.targetValue")
	}
	r := resource{region, *in.ResourceID, *in.ScalableDimension}
	_, _, write := r.parsed()
	want := "DynamoDBReadCapacityUtilization"
	if write {
		want = "DynamoDBWriteCapacityUtilization"
	}
	if tt.PredefinedMetricSpecification == nil {
		// eddy evaluates DynamoDB's predefined metrics only.
		return nil, errValidation("eddy supports only PredefinedMetricSpecification (%s) for %s", want, r.Dimension)
	}
	if pt := tt.PredefinedMetricSpecification.PredefinedMetricType; pt != want {
		return nil, errValidation("Predefined metric type %s is not valid for scalable dimension %s", pt, r.Dimension)
	}
	// DynamoDB auto scaling targets a utilization between 20 and 90
	// percent (DynamoDB developer guide, "Managing throughput capacity
	// automatically with DynamoDB auto scaling").
	if v := *tt.TargetValue; math.IsNaN(v) || v < 20 || v > 90 {
		return nil, errValidation("The target value for DynamoDB must be between 20 and 90 percent, got %g", v)
	}
	for _, c := range []*int64{tt.ScaleInCooldown, tt.ScaleOutCooldown} {
		if c != nil && *c < 0 {
			return nil, errValidation("Cooldown must be a non-negative number of seconds")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.targets[r] == nil {
		return nil, errNoTarget(r)
	}
	k := policyKey{r, *in.PolicyName}
	p := s.policies[k]
	if p == nil {
		id := uuid.New()
		p = &policy{resource: r, name: *in.PolicyName, created: s.opts.Now(),
			arn: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/dynamodb/%s:policyName/%s", region, s.opts.AccountID, id, r.ResourceID, *in.PolicyName)}
		for _, n := range []string{"AlarmHigh", "AlarmLow", "ProvisionedCapacityHigh", "ProvisionedCapacityLow"} {
			name := fmt.Sprintf("TargetTracking-%s-%s-%s", r.ResourceID, n, uuid.New())
			p.alarms = append(p.alarms, alarm{name, fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, s.opts.AccountID, name)})
		}
	}
	np := *p
	np.cfg = *tt
	if err := s.save(map[string]any{string(policyKeyOf(k)): np.rec()}); err != nil {
		return nil, err
	}
	*p = np
	s.policies[k] = p
	return struct {
		PolicyARN string  `json:"PolicyARN"`
		Alarms    []alarm `json:"Alarms"`
	}{p.arn, p.alarms}, nil
}

type policyOut struct {
	PolicyARN         string          `json:"PolicyARN"`
	PolicyName        string          `json:"PolicyName"`
	ServiceNamespace  string          `json:"ServiceNamespace"`
	ResourceID        string          `json:"ResourceId"`
	ScalableDimension string          `json:"ScalableDimension"`
	PolicyType        string          `json:"PolicyType"`
	TargetTracking    *TargetTracking `json:"TargetTrackingScalingPolicyConfiguration"`
	Alarms            []alarm         `json:"Alarms"`
	CreationTime      epochTime       `json:"CreationTime"`
}

func (s *Service) describePolicies(region string, in *listIn) (any, error) {
	if err := checkResource(in.ServiceNamespace, in.ResourceID, in.ScalableDimension, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []policyOut
	for _, p := range s.sortedPolicies() {
		if p.Region != region || *in.ServiceNamespace != "dynamodb" ||
			(in.ResourceID != nil && *in.ResourceID != p.ResourceID) ||
			(in.ScalableDimension != nil && *in.ScalableDimension != p.Dimension) ||
			(len(in.PolicyNames) > 0 && !slices.Contains(in.PolicyNames, p.name)) {
			continue
		}
		cfg := p.cfg
		all = append(all, policyOut{p.arn, p.name, "dynamodb", p.ResourceID, p.Dimension, "TargetTrackingScaling", &cfg, p.alarms, epochTime(p.created)})
	}
	s.mu.Unlock()
	items, next, err := page(all, in, 50)
	if err != nil {
		return nil, err
	}
	return struct {
		ScalingPolicies []policyOut `json:"ScalingPolicies"`
		NextToken       *string     `json:"NextToken,omitempty"`
	}{append([]policyOut{}, items...), next}, nil
}

func (s *Service) deletePolicy(region string, in *policyIn) (any, error) {
	if in.PolicyName == nil {
		return nil, errNull("policyName")
	}
	if err := checkResource(in.ServiceNamespace, in.ResourceID, in.ScalableDimension, true); err != nil {
		return nil, err
	}
	r := resource{region, *in.ResourceID, *in.ScalableDimension}
	k := policyKey{r, *in.PolicyName}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.policies[k] == nil {
		return nil, &apiError{"ObjectNotFoundException", fmt.Sprintf("No scaling policy found for service namespace: dynamodb, resource ID: %s, scalable dimension: %s, policy name: %s", r.ResourceID, r.Dimension, *in.PolicyName)}
	}
	if err := s.save(nil, policyKeyOf(k)); err != nil {
		return nil, err
	}
	delete(s.policies, k)
	return struct{}{}, nil
}

type activityOut struct {
	ActivityID        string    `json:"ActivityId"`
	ServiceNamespace  string    `json:"ServiceNamespace"`
	ResourceID        string    `json:"ResourceId"`
	ScalableDimension string    `json:"ScalableDimension"`
	Description       string    `json:"Description"`
	Cause             string    `json:"Cause"`
	StartTime         epochTime `json:"StartTime"`
	EndTime           epochTime `json:"EndTime"`
	StatusCode        string    `json:"StatusCode"`
	StatusMessage     string    `json:"StatusMessage"`
}

func (s *Service) describeActivities(region string, in *listIn) (any, error) {
	if err := checkResource(in.ServiceNamespace, in.ResourceID, in.ScalableDimension, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []activityOut
	for i := len(s.activities) - 1; i >= 0; i-- { // newest first
		a := s.activities[i]
		if a.Region != region || *in.ServiceNamespace != "dynamodb" ||
			(in.ResourceID != nil && *in.ResourceID != a.ResourceID) ||
			(in.ScalableDimension != nil && *in.ScalableDimension != a.Dimension) {
			continue
		}
		all = append(all, activityOut{a.id, "dynamodb", a.ResourceID, a.Dimension, a.description, a.cause,
			epochTime(a.start), epochTime(a.end), a.status, a.message})
	}
	s.mu.Unlock()
	items, next, err := page(all, in, 50)
	if err != nil {
		return nil, err
	}
	return struct {
		ScalingActivities []activityOut `json:"ScalingActivities"`
		NextToken         *string       `json:"NextToken,omitempty"`
	}{append([]activityOut{}, items...), next}, nil
}
