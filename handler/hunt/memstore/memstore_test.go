package memstore_test

import (
	"testing"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/hunt/memstore"
	"github.com/huntwatch/huntwatch/handler/hunt/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hunt.Store { return memstore.New() })
}
