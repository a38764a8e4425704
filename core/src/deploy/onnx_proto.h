// libonnx's protobuf classes for the deploy code. Its headers need ONNX_NAMESPACE (and
// ONNX_ML, as the library was built) defined before the first include.
#pragma once
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>
