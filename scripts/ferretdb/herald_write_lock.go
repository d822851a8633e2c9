package handler

// Added by Herald's build of FerretDB (see scripts/setup.mjs).

import (
	"context"
	"sync"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/types"
)

// heraldWriteMu makes each read-then-write command (update, findAndModify, delete) atomic
// against the others, as MongoDB's per-document atomicity requires.
//
// It is released by defer: FerretDB recovers a panic in a command and closes that connection, and a
// lock held across such a panic would stop every later write.
var heraldWriteMu sync.Mutex

func (h *Handler) heraldUpdateDocument(ctx context.Context, params *common.UpdateParams) (int32, int32, *types.Array, error) {
	heraldWriteMu.Lock()
	defer heraldWriteMu.Unlock()

	return h.updateDocument(ctx, params)
}

func (h *Handler) heraldFindAndModifyDocument(ctx context.Context, params *common.FindAndModifyParams) (*findAndModifyResult, error) {
	heraldWriteMu.Lock()
	defer heraldWriteMu.Unlock()

	return h.findAndModifyDocument(ctx, params)
}

func (h *Handler) heraldExecDelete(ctx context.Context, c backends.Collection, p *common.Delete) (int32, error) {
	heraldWriteMu.Lock()
	defer heraldWriteMu.Unlock()

	return h.execDelete(ctx, c, p)
}
