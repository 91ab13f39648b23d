#include "ablation/ablator.h"
