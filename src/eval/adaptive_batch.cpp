#include "eval/adaptive_batch.h"
