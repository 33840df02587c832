# The core's cargo features from the Kconfig options that leave parts of
# it out. Zephyr's Kconfig (zephyr/Kconfig) and ESP-IDF's menuconfig
# (ports/freertos/esp-idf/nimbus/Kconfig) use the same option names, so
# both builds take the table from here.
#
#   nimbus_optional_features(<list variable>)
#     appends to the list the feature of every option that is set
#     (CONFIG_NIMBUS_<OPTION>, as the build system defines it).

set(NIMBUS_OPTIONAL_FEATURES
  AWS=aws
  AZURE=azure
  RECORD=record
  BUILTIN_REQUESTS=builtin
  SAS=sas
  CBOR=cbor
  RATE_LIMIT=rate-limit
  TRACE=trace
)

function(nimbus_optional_features out)
  set(features ${${out}})
  foreach(pair ${NIMBUS_OPTIONAL_FEATURES})
    string(REPLACE "=" ";" option_feature "${pair}")
    list(GET option_feature 0 option)
    list(GET option_feature 1 feature)
    if(CONFIG_NIMBUS_${option})
      list(APPEND features ${feature})
    endif()
  endforeach()
  set(${out} ${features} PARENT_SCOPE)
endfunction()

# The core's build-time bounds (its build.rs reads NIMBUS_CFG_<BOUND>).
# They size nimbus_client_t, so the C code that includes nimbus.h must be
# compiled with the values cargo builds the core with: the builds pass
# the one list this gives both to cargo's environment and to the C
# compiler (as definitions).
#
#   nimbus_bounds(<list variable> <prefix>)
#     sets the list to NIMBUS_CFG_<BOUND>=<value> for every bound whose
#     <prefix><BOUND> variable is defined: CONFIG_NIMBUS_ for the Kconfig
#     menus of Zephyr and ESP-IDF, NIMBUS_CFG_ for a plain CMake build.
set(NIMBUS_BOUNDS
  MAX_INFLIGHT MAX_SUBSCRIPTIONS MAX_HANDLERS MAX_SENSORS
  MAX_PENDING_REQUESTS MAX_TWIN_REQUESTS
)

function(nimbus_bounds out prefix)
  set(bounds)
  foreach(bound ${NIMBUS_BOUNDS})
    if(DEFINED ${prefix}${bound})
      list(APPEND bounds NIMBUS_CFG_${bound}=${${prefix}${bound}})
    endif()
  endforeach()
  set(${out} ${bounds} PARENT_SCOPE)
endfunction()
