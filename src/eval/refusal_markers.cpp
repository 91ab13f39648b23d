#include "eval/refusal_markers.h"
