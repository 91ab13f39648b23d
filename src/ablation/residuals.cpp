#include "ablation/residuals.h"
