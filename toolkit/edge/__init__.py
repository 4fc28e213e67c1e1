"""The edge kit: `cnnkit bundle` builds an offline install for a device, `cnnkit verify`
proves the device gives the build machine's answers, `cnnkit doctor` says whether a
machine is fit and what follows from its CPU (docs/edge.md). Torch-free: it runs on the
device."""
