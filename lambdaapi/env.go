package lambdaapi

import (
	"slices"
	"strings"
)

// reservedEnv are the environment variable keys Lambda sets itself and
// refuses in a function's configuration ("Defined runtime environment
// variables": "The keys for these environment variables are reserved and
// cannot be set in your function configuration", Lambda developer guide;
// recorded answers name AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION). TZ, also in the guide's
// table, is left settable: functions set it on Lambda.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// checkReservedEnv answers Lambda's InvalidParameterValueException for
// reserved keys in CreateFunction's or UpdateFunctionConfiguration's
// Environment, with Lambda's text (recorded: "... Reserved keys used in
// this request: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY").
// Lambda lists them in the request's order, which a decoded map no longer
// has: eddy sorts them.
func checkReservedEnv(vars map[string]string) error {
	var used []string
	for k := range vars {
		if reservedEnv[k] {
			used = append(used, k)
		}
	}
	if len(used) == 0 {
		return nil
	}
	slices.Sort(used)
	return invalidParam("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: " + strings.Join(used, ", "))
}
