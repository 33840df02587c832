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
