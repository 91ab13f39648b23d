#include "eval/response_prefix.h"
