package storage

import "fmt"

// alreadyRunning is the error a second Open of dir returns.
func alreadyRunning(dir string) error {
	return fmt.Errorf("%w (close the other Kith window or kithd using %s, then try again)", ErrAlreadyRunning, dir)
}
