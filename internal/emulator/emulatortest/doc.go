// Package emulatortest gives tests the servers of package emulator as
// testing.TB helpers: one server for a test alone (StartDynamoDBLocal,
// StartMoto), stopped by the test's Cleanup, or one per test binary
// (SharedDynamoDBLocal, SharedMoto), started on first use. A server that
// cannot start (not installed: the error names the command that installs
// it) fails the test, never skips it: a green run must mean the real
// component was exercised.
//
// Only _test.go files import it; dev tools use package emulator.
package emulatortest
