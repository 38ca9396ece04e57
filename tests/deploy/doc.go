// Package deploy holds offline checks of tickpipe's deployment files: the
// Helm chart's rendered manifests strictly decoded into the Kubernetes API
// types, the Compose stack's services per profile, and every tickpipe flag,
// environment variable and probe they use checked against the built binary.
// The shell tests in tests/integration/deploy_*.sh render the inputs and run
// these tests with the paths in the environment.
package deploy
