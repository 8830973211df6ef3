package backend

// Step is one call a login makes before the server login, as
// redshift-ka check shows it: whom it asks and for what, never a secret.
type Step struct {
	// Name names the call: "STS AssumeRoleWithWebIdentity",
	// "GetClusterCredentials", "GetIdentityCenterAuthToken", "Okta
	// sign-in". A failed step's error names it ([StepError]).
	Name string `json:"step"`
	// Detail is what the call asks for ("role arn:..., region
	// us-east-1"); no secret.
	Detail string `json:"detail,omitempty"`
}

// Stepper is what a [Login] or [TokenSource] may implement to say the
// steps a new login takes, in order, without taking them.
type Stepper interface {
	Steps() []Step
}

// StepError is what the error of a [Stepper]'s login implements (found
// with errors.As) to say which of its steps failed: FailedStep is that
// step's [Step.Name]. The steps before it succeeded; those after it were
// not taken.
type StepError interface {
	error
	FailedStep() string
}
