"""Generated protobuf module for go-livepeer's payment messages (see lp_rpc.proto)."""
