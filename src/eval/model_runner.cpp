#include "eval/model_runner.h"
