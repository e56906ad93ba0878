# Debian bookworm: libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev.
# Asio and Beast are header-only; JSON and URL are compiled libraries.
find_package(boost_json 1.81 REQUIRED CONFIG)
find_package(boost_url 1.81 REQUIRED CONFIG)
find_package(boost_system 1.81 REQUIRED CONFIG)
add_library(aksnode_boost INTERFACE)
target_link_libraries(aksnode_boost INTERFACE Boost::json Boost::url Boost::system Threads::Threads)
# Asio: one io_context per process, no deprecated interfaces, coroutines on.
target_compile_definitions(aksnode_boost INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
